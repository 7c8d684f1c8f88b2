"""What a worker sends, bounded on the grader's side (the worker's own caps are a convenience
student code can bypass): failure texts and tracebacks, the Ready message's names and load
errors, and captured output. Used by grader.submission.session for every reply."""

from __future__ import annotations

from typing import Any

from grader.worker import protocol

#: Grader-side caps on worker texts (characters).
MAX_ERROR_TYPE = 100
MAX_FAILURE_MESSAGE = 2000
MAX_TRACEBACK = 4000
MAX_NAME = 200
MAX_NAMES = 10_000
MAX_LOAD_ERRORS = 50
MAX_LOAD_ERROR = 500


def clip(text: object, limit: int) -> str:
    """``text`` as a string of at most about ``limit`` characters, saying how much was cut."""
    value = text if isinstance(text, str) else str(text)
    if len(value) <= limit:
        return value
    return f"{value[:limit]} [... {len(value) - limit} more characters]"


def cap_output(text: str, cap: int) -> str:
    """Captured output cut to about ``cap`` characters (a worker's own "dropped" note, which
    follows its capped output, is kept)."""
    if len(text) <= cap + 100:
        return text
    return f"{text[:cap]}\n[... {len(text) - cap} more bytes of output dropped]"


def _text(value: Any, limit: int) -> str:
    return clip(value, limit) if isinstance(value, str) else f"<{type(value).__name__}>"


def bounded(reply: Any) -> Any:
    """A worker's reply with every text in it capped (see the module docstring)."""
    if isinstance(reply, protocol.Failure):
        return protocol.Failure(error_type=_text(reply.error_type, MAX_ERROR_TYPE),
                                message=_text(reply.message, MAX_FAILURE_MESSAGE),
                                traceback=_text(reply.traceback, MAX_TRACEBACK),
                                not_implemented=reply.not_implemented is True)
    if isinstance(reply, protocol.Ready):
        names = reply.defined if isinstance(reply.defined, list) else []
        errors = reply.errors if isinstance(reply.errors, list) else []
        kept = [_text(e, MAX_LOAD_ERROR) for e in errors[:MAX_LOAD_ERRORS]]
        if len(errors) > MAX_LOAD_ERRORS:
            kept.append(f"... and {len(errors) - MAX_LOAD_ERRORS} more failed statements")
        return protocol.Ready(
            defined=[n for n in names[:MAX_NAMES] if isinstance(n, str) and len(n) <= MAX_NAME],
            errors=kept)
    return reply
