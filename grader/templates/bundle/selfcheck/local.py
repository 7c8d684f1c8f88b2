"""The grader's worker session, run inside this Python process.

Your code runs in your own Python (it is your code, on your machine), through the grader's own
code: ``grader.submission.session.WorkerSession`` encodes each request as the grader does,
``grader.worker.remote.Session`` decodes and runs it as the grader's worker does (loading your
notebook's statements, calling your functions, keeping objects such as an ``nn.Module`` behind
handles), and every answer comes back through the same codec, as a copy. Only the transport
differs: a buffer in memory instead of a pipe to a sandboxed process, so there are no time or
memory limits here, and it works on every operating system.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Any

from grader.core.errors import ProtocolError
from grader.core.settings import Limits
from grader.submission.session import WorkerSession
from grader.worker import protocol, remote


def _frame(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    protocol.write_frame(buffer, payload)
    return buffer.getvalue()


class _Channel:
    """Both streams of the worker: it reads ``inbox``; what it writes goes to ``on_frame``."""

    def __init__(self) -> None:
        self.inbox = bytearray()
        self.on_frame: Callable[[bytes], None] = lambda payload: None

    def read(self, size: int) -> bytes:
        chunk = bytes(self.inbox[:size])
        del self.inbox[:size]
        return chunk

    def write(self, data: bytes) -> int:
        self.on_frame(protocol.read_frame(io.BytesIO(bytes(data))))
        return len(data)

    def flush(self) -> None:
        pass


class LocalWorker:
    """The worker's message loop (``remote.Session``) in this thread, one message at a time.

    ``namespace``: names the worker's module starts with (a kernel's current definitions).
    """

    read_fd = write_fd = -1

    def __init__(self, namespace: dict[str, Any] | None = None) -> None:
        self.channel = _Channel()
        self.remote = remote.Session(self.channel, self.channel)  # type: ignore[arg-type]
        if namespace:
            self.remote.module.__dict__.update(
                (name, value) for name, value in namespace.items() if not name.startswith("__"))
        self.closed = False

    def exchange(self, payload: bytes, on_frame: Callable[[bytes], None]) -> None:
        """Receive, handle and answer one message, as ``remote.serve`` does."""
        self.channel.on_frame = on_frame
        self.channel.inbox.extend(_frame(payload))
        self.remote.send(self.remote.handle(self.remote.recv()))

    def alive(self) -> bool:
        return not self.closed

    def kill(self) -> None:
        self.closed = True

    def output(self) -> str:
        return ""  # what your code prints goes where your prints always go

    def exit_description(self) -> str:
        return "closed" if self.closed else "running"


class _LocalSandbox:
    level = "local"
    description = "local (your own Python process; no limits)"

    def __init__(self, namespace: dict[str, Any] | None) -> None:
        self.namespace = namespace

    def start(self, limits: Limits, device: str = "cpu") -> LocalWorker:
        return LocalWorker(self.namespace)


def _threads() -> int:
    """Leave torch's thread count as it is (the grader's worker sets its own)."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else os.cpu_count() or 1


class LocalSession(WorkerSession):
    """A WorkerSession whose worker is :class:`LocalWorker`: the same requests, replies and
    errors (StudentError, NotAttempted) as in the grader."""

    def __init__(self, statements: list[str], namespace: dict[str, Any] | None = None,
                 device: str = "cpu") -> None:
        super().__init__(_LocalSandbox(namespace), Limits(), statements, threads=_threads(),
                         device=device)

    def _await_start(self) -> None:
        """The worker runs in this thread: it has started once it exists (no Started frame
        to wait for, no pipe to read it from)."""
        self.awaiting_start = False

    def _exchange(self, message: Any, deadline: float,
                  decode_handle: Callable[[protocol.Handle], Any] | None = None) -> Any:
        worker = self.worker
        assert isinstance(worker, LocalWorker)
        replies: list[Any] = []

        def on_frame(payload: bytes) -> None:
            reply = protocol.decode_message(payload, from_handle=decode_handle)
            if isinstance(reply, protocol.CallbackRequest):  # the suite's function, run here
                worker.channel.inbox.extend(_frame(self._encode(self._run_callback(reply))))
            else:
                replies.append(reply)

        try:
            worker.exchange(self._encode(message), on_frame)
        except protocol.WireError as exc:
            raise ProtocolError(f"invalid message: {exc}") from None
        reply = replies[-1]
        if isinstance(reply, protocol.Failure) and reply.error_type == "KeyboardInterrupt":
            raise KeyboardInterrupt  # Ctrl-C (or Interrupt the kernel) stops the self-check
        return reply

    def close(self) -> None:
        self._discard()
