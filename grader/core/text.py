"""Student-controlled text made safe for every output: terminal, CSV, Markdown, HTML, CI logs.

Student ids are folder names, file names are chosen by students, and messages carry what
student code raised or printed, so any of them may hold newlines, ANSI escapes, bidi overrides,
spreadsheet formulas, Markdown or workflow commands. Every report writer passes such text
through one of these functions (HTML gets Jinja2's autoescaping on top of :func:`visible`):

    visible(text)     one line: control characters, line breaks, ANSI escapes, bidi and
                      zero-width characters shown as ``\\n``, ``\\x1b``, ``\\u202e``
    block(text)       the same for multi-line text (keeps line breaks and tabs)
    csv_cell(value)   visible, and OWASP's rule against formulas: a cell starting with
                      ``= + - @`` (or tab, CR) gets a leading ``'`` (plain numbers excepted)
    md_text(text)     visible, with Markdown and HTML syntax escaped (inline text)
    md_code(text)     an inline code span that nothing in ``text`` can close
    md_cell(text)     course text in a table cell; md_fence(text): a fence for a code block
    ci_text(text)     visible, with no workflow command (``::``) or ``Points N`` left in it
    heredoc(name, v)  a ``$GITHUB_OUTPUT`` entry with a random delimiter

Before any of these, text that crosses from a student is made valid once, at the edge where it
enters the grader (the worker's messages, names read from disk):

    valid(text)           valid Unicode (a lone surrogate, which no UTF-8 writer accepts,
                          becomes U+FFFD), optionally bounded
    display_name(name)    a file or folder name as read from disk (``os.fsdecode``: bytes that
                          are not UTF-8 are surrogate escapes) as valid text that still tells
                          such names apart: U+FFFD for each bad byte and a short hash of the
                          real bytes (``m_bad\ufffdname~1a2b3c4d``)
    display_path(path)    the same for every component of a path

Nothing here knows about results; the functions take and return plain strings.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import PurePath

#: C0 and C1 controls, DEL, line/paragraph separators, bidi controls, zero-width and BOM.
_OTHER = "\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
_UNSAFE_LINE = re.compile(f"[\x00-\x1f{_OTHER}]")
_UNSAFE_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")  # keeps tab and newline
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$&])")
_MD_LINE_START = re.compile(r"^(\s*)(\d*)([#+\-=>.)])")
_BACKTICKS = re.compile(r"`+")

_WORKFLOW_COMMAND = re.compile(r"::")
_POINTS = re.compile(r"(?i)(points)(\s+)(?=[\d.+-])")


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid(text: object, limit: int | None = None) -> str:
    """``text`` as a string every UTF-8 writer accepts: each lone surrogate becomes U+FFFD;
    with ``limit``, at most about ``limit`` characters (saying how many were cut)."""
    value = text if isinstance(text, str) else str(text)
    if not value.isascii():
        value = _SURROGATE.sub("\ufffd", value)
    if limit is not None and len(value) > limit:
        value = f"{value[:limit]} [... {len(value) - limit} more characters]"
    return value


def head_of(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, cut between words where a space falls in the
    second half (else at ``limit``); ``text`` itself when it fits."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit].rstrip()


def display_name(name: str) -> str:
    """A name read from disk as valid text; unchanged when it already is. A name whose bytes
    are not UTF-8 gets U+FFFD for each bad byte and ``~`` plus a short hash of its real bytes,
    so that two such names never show (or grade) as one."""
    if name.isascii() or not _SURROGATE.search(name):
        return name
    try:
        raw = os.fsencode(name)  # the real bytes of a name read from disk
    except UnicodeEncodeError:  # a surrogate no file name holds (text from JSON)
        raw = name.encode("utf-8", "surrogatepass")
    tag = "~" + hashlib.sha256(raw).hexdigest()[:8]
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and len(suffix) <= 8 and not _SURROGATE.search(suffix):
        return f"{_SURROGATE.sub(chr(0xFFFD), stem)}{tag}.{suffix}"  # keeps ``.ipynb``
    return _SURROGATE.sub(chr(0xFFFD), name) + tag


def display_path(path: str | PurePath) -> str:
    """``path`` as valid text: :func:`display_name` of each component."""
    text = os.fspath(path)
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return "/".join(display_name(part) for part in text.split("/"))


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` on one line, every invisible or terminal-controlling character escaped."""
    return _UNSAFE_LINE.sub(_escape, str(text))


def block(text: object) -> str:
    """Multi-line ``text`` with line breaks and tabs kept, every other control escaped
    (a carriage return too: it would overwrite a line in a terminal)."""
    return _UNSAFE_BLOCK.sub(_escape, str(text).replace("\r\n", "\n"))


def csv_cell(value: object) -> str:
    """One CSV cell: visible, and never a formula when opened in a spreadsheet."""
    text = visible(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def md_text(text: object) -> str:
    """Inline Markdown showing ``text`` literally: no emphasis, link, image, HTML, table cell
    break, heading or list."""
    escaped = _MD_SPECIAL.sub(r"\\\1", visible(text))
    return _MD_LINE_START.sub(r"\1\2\\\3", escaped, count=1)


def md_cell(text: object) -> str:
    """Course text (a test's description) in one Markdown table cell: one line, pipes escaped.
    Student text goes through :func:`md_text` (or :func:`md_code`) instead."""
    return " ".join(visible(text).split()).replace("|", "\\|")


def md_code(text: object, table: bool = False) -> str:
    """``text`` as an inline code span; ``table``: inside a table cell (pipes escaped)."""
    content = visible(text)
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    fence = "`" * (longest + 1)
    if content.startswith("`") or content.endswith("`") or not content.strip():
        content = f" {content} "
    if table:
        content = content.replace("|", "\\|")
    return f"{fence}{content}{fence}"


def md_fence(text: object) -> str:
    """A backtick fence longer than any run of backticks in ``text`` (for a code block)."""
    longest = max((len(run) for run in _BACKTICKS.findall(str(text))), default=0)
    return "`" * max(3, longest + 1)


def ci_text(text: object) -> str:
    """Text for a CI log line: visible, no ``::`` a runner could read as a workflow command
    (runners trim leading spaces), and no ``Points N`` a score parser could read."""
    line = _WORKFLOW_COMMAND.sub(r":\\x3a", visible(text))
    return _POINTS.sub(lambda m: m.group(1) + "\\x20", line)


def heredoc(name: str, value: object) -> str:
    """One ``$GITHUB_OUTPUT`` (or ``$GITHUB_ENV``) entry whose value cannot end it early or
    add entries: a multi-line entry with a random delimiter."""
    text = str(value)
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in text:  # vanishingly unlikely; a value cannot guess it
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"


def command_token() -> str:
    """A random token for ``::stop-commands::TOKEN`` ... ``::TOKEN::``."""
    return secrets.token_hex(16)
