"""What every sandbox level provides: a started worker and a deadline-aware channel to it.

A level's ``start()`` returns a :class:`Worker`: two pipe fds for protocol frames, the worker's
captured output (capped), and ``kill()`` which ends the worker and everything it started. The
controller never blocks without a deadline on anything the worker holds.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader.core.errors import ProtocolError, WorkerCrashed
from grader.core.settings import Limits
from grader.sandbox.clock import Deadline, as_deadline
from grader.worker import protocol

WORKER_DIR = Path(__file__).resolve().parent.parent / "worker"
POLL_S = 0.25  # how often a wait on the worker checks that it is still alive


class Worker(Protocol):
    """A running worker as the controller sees it."""

    read_fd: int
    write_fd: int

    def alive(self) -> bool: ...

    def kill(self) -> None: ...

    def output(self) -> str: ...

    def exit_description(self) -> str: ...

    def cpu_seconds(self) -> float | None:
        """CPU time the worker's cgroup used so far (None: not counted; budgets then run on
        the wall clock, grader.sandbox.clock)."""
        ...


class Sandbox(Protocol):
    """A way to start workers at one isolation level: everything its callers use."""

    level: str
    description: str
    #: the uid its workers run as (a leased slot's, as root), None for the grader's own
    uid: int | None

    def start(self, limits: Limits, device: str = "cpu") -> Worker: ...

    def close(self) -> None:
        """Release what the sandbox keeps between workers (a warm zygote); idempotent."""


@dataclass
class OutputBuffer:
    """Keeps the first ``cap`` bytes written to a pipe and counts (then drops) the rest."""

    cap: int
    data: bytearray
    dropped: int = 0
    wake: int = -1  # written to by stop(): the reading thread's wake-up

    def drain(self, fd: int) -> threading.Thread:
        """Read ``fd`` until EOF or :meth:`stop`, after which what the pipe already holds is
        read and the thread ends (a grandchild holding the pipe open, or a killed worker not
        yet gone, must not keep a thread, or the grader, waiting). Everything a worker wrote
        before its last answer is in the pipe by then: it flushes before it answers."""
        wake_read, self.wake = os.pipe()

        def run() -> None:
            after_stop = 0  # reads since stop(): a writer that never stops is not waited out
            try:
                while after_stop < 64:
                    readable, _, _ = select.select([fd, wake_read], [], [])
                    if fd not in readable:  # stopped, the pipe empty
                        break
                    after_stop += wake_read in readable
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    room = self.cap - len(self.data)
                    self.data.extend(chunk[:max(room, 0)])
                    self.dropped += max(len(chunk) - max(room, 0), 0)
            except OSError:
                pass
            finally:
                os.close(fd)
                os.close(wake_read)

        thread = threading.Thread(target=run, daemon=True, name="worker-output")
        thread.start()
        return thread

    def stop(self) -> None:
        if self.wake >= 0:
            with contextlib.suppress(OSError):
                os.write(self.wake, b"x")
                os.close(self.wake)
            self.wake = -1

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output dropped]"
        return text


@dataclass
class Pipes:
    """A worker's channel (two pipes) and its captured output, as every level starts one.

    ``read_fd``/``write_fd`` are the grader's ends; ``child_fds`` (read, write, output) are the
    worker's, closed here once it has them (:meth:`close_child_ends`)."""

    read_fd: int
    write_fd: int
    child_fds: tuple[int, int, int]
    output: OutputBuffer
    drain: threading.Thread

    @classmethod
    def open(cls, output_cap: int) -> Pipes:
        (child_read, write_fd), (read_fd, child_write) = make_pipes()
        out_read, out_write = os.pipe()
        output = OutputBuffer(cap=output_cap, data=bytearray())
        return cls(read_fd, write_fd, (child_read, child_write, out_write), output,
                   output.drain(out_read))

    def close_child_ends(self) -> None:
        for fd in self.child_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.child_fds = (-1, -1, -1)

    def close(self) -> None:
        """Close the grader's ends and stop reading output (idempotent: never closes a
        reused fd)."""
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.read_fd = self.write_fd = -1
        self.output.stop()
        self.drain.join(timeout=0.5)


def describe_exit(code: int) -> str:
    """How a worker ended, for its feedback: ``code`` as subprocess gives it (-N: signal N;
    ``os.waitstatus_to_exitcode`` turns a wait status into one)."""
    if code >= 0:
        return f"exit status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"killed by signal {-code}"
    hint = " (memory or CPU limit?)" if name in ("SIGKILL", "SIGXCPU", "SIGSEGV") else ""
    return f"killed by {name}{hint}"


def _remaining(deadline: Deadline) -> float:
    """Wall seconds to wait before looking again; WorkerTimeout once the deadline passed."""
    return deadline.left()


def send_frame(worker: Worker, payload: bytes, when: float | Deadline) -> None:
    """Write one frame, never waiting past ``when`` (a monotonic time, or a Deadline that
    also counts the worker's CPU time) for a worker that stopped reading."""
    deadline = as_deadline(when)
    data = memoryview(protocol.frame(payload))
    while data:
        _, writable, _ = select.select([], [worker.write_fd], [],
                                       min(_remaining(deadline), POLL_S))
        if not writable:
            if not worker.alive():
                raise WorkerCrashed(f"the worker stopped ({worker.exit_description()})")
            continue
        try:
            written = os.write(worker.write_fd, data[:65536])
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                continue
            raise WorkerCrashed(f"worker closed its channel ({worker.exit_description()})") \
                from None
        data = data[written:]


def recv_frame(worker: Worker, when: float | Deadline, max_bytes: int) -> bytes:
    """Read one frame before ``when`` (as for :func:`send_frame`); EOF means the worker died.

    The frame's length and its header's length are checked before the rest is read, so a
    worker announcing a huge frame or header costs nothing; the frame is read into one
    buffer (no second copy)."""
    deadline = as_deadline(when)
    prefix = protocol.FRAME_LENGTH
    (length,) = prefix.unpack(_read_exact(worker, prefix.size, deadline))
    try:
        protocol.check_frame_length(length, max_bytes)
        frame = bytearray(length)
        view = memoryview(frame)
        start = min(protocol.HEADER_LENGTH.size, length)
        _read_into(worker, view[:start], deadline)
        if start == protocol.HEADER_LENGTH.size:
            (header,) = protocol.HEADER_LENGTH.unpack(view[:start])
            protocol.check_header_length(header, length)
    except protocol.WireError as exc:
        raise ProtocolError(f"worker sent a {exc}") from None
    _read_into(worker, view[start:], deadline)
    return frame  # type: ignore[return-value]  # a bytearray decodes like bytes


def _read_exact(worker: Worker, size: int, deadline: Deadline) -> bytes:
    buffer = bytearray(size)
    _read_into(worker, memoryview(buffer), deadline)
    return bytes(buffer)


def _read_into(worker: Worker, view: memoryview, deadline: Deadline) -> None:
    """Fill ``view`` from the worker's channel before ``deadline``."""
    done = 0
    while done < len(view):
        readable, _, _ = select.select([worker.read_fd], [], [],
                                       min(_remaining(deadline), POLL_S))
        if not readable:
            # A grandchild may hold the channel open after the worker died: no EOF would come.
            if not worker.alive() and not select.select([worker.read_fd], [], [], 0)[0]:
                raise WorkerCrashed(f"the worker stopped ({worker.exit_description()})")
            continue
        try:
            count = os.readv(worker.read_fd, [view[done:done + (1 << 20)]])
        except BlockingIOError:
            continue
        if not count:
            raise WorkerCrashed(f"the worker stopped ({worker.exit_description()})")
        done += count


def make_pipes() -> tuple[tuple[int, int], tuple[int, int]]:
    """(to_worker_read, to_worker_write), (from_worker_read, from_worker_write)."""
    to_worker = os.pipe()
    from_worker = os.pipe()
    os.set_blocking(to_worker[1], False)
    os.set_blocking(from_worker[0], False)
    return to_worker, from_worker
