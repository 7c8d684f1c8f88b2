"""Forked reader children: untrusted files read under limits, answers as JSON frames.

    run_isolated(job, limits) -> job's JSON answer, or {"failed": why}
    Reading(jobs, limits).answers() -> each job's answer, several jobs in one child

A child is capped in address space at what the grader already maps plus
``limits.memory_bytes``, in CPU and wall-clock time at ``limits.timeout_s`` per job; it
sends each answer as a frame (8-byte length, then JSON), and only JSON crosses (never
pickle). Whatever a job does to its reader (a parse that never ends, RecursionError,
MemoryError, a crash), the grader gets one line for that job (grader.extract.isolate builds
the jobs: reading and extracting a notebook).
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import json
import math
import os
import select
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.core.files import MIB, ReadLimits

#: Largest answer a child may send (statements of a maximal file, JSON-escaped).
_MAX_REPLY = 64 * MIB
#: Bytes of the length before each answer a child sends.
_HEADER = 8


def guarded(job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``job()``, with any failure (RecursionError, MemoryError included) as ``failed``."""
    try:
        return job()
    except RecursionError:
        return {"failed": "too deeply nested to read"}
    except MemoryError:
        return {"failed": "too large or too complex to read (out of memory)"}
    except Exception as exc:  # noqa: BLE001 - hostile input may break the reader any way
        return {"failed": f"cannot be read ({type(exc).__name__})"}


def run_isolated(job: Callable[[], dict[str, Any]], limits: ReadLimits) -> dict[str, Any]:
    """``job()`` run in a forked child under ``limits``; its JSON answer, or ``failed``."""
    return Reading([job], limits).answers()[0]


class Reading:
    """Jobs under way in a forked child, started at once: the caller goes on (and may start
    another child) while it runs; :meth:`answers` waits for it, :meth:`cancel` stops it.

    The child runs the jobs in turn, each under its own time limit, and sends each answer as
    it is done. The answers are :func:`run_isolated`'s, job for job: a job that failed after
    another ran in the same child (memory that one left behind may be why) is run again,
    first in a fresh child, with the jobs after it; a job that ran out of time is not run
    twice (its time was its own), the jobs after it go on in a fresh child. ``fork`` False
    (no fork here): the jobs run in this process when the answers are asked for."""

    def __init__(self, jobs: Sequence[Callable[[], dict[str, Any]]], limits: ReadLimits,
                 fork: bool = True) -> None:
        self.jobs = list(jobs)
        self.limits = limits
        self.fork = fork
        self.child = _start_child(self.jobs, limits) if fork and self.jobs else None

    def answers(self) -> list[dict[str, Any]]:
        if not self.fork:
            return [guarded(job) for job in self.jobs]
        replies: list[dict[str, Any]] = []
        while len(replies) < len(self.jobs):
            rest = self.jobs[len(replies):]
            child, self.child = self.child or _start_child(rest, self.limits), None
            got, timed_out = _finish_child(child, len(rest), self.limits)
            if len(got) > 1 and "failed" in got[-1] and not timed_out:
                got.pop()
            replies.extend(got)
        return replies

    def cancel(self) -> None:
        """Stop the child, if one is running (its answers are not wanted)."""
        child, self.child = self.child, None
        if child is not None:
            _end_child(child)


@dataclass(frozen=True)
class _Child:
    pid: int
    read_fd: int


def _start_child(jobs: Sequence[Callable[[], dict[str, Any]]], limits: ReadLimits) -> _Child:
    """A forked child running ``jobs`` in turn (:func:`_child`), its answers on a pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(jobs, limits, write_fd)
    os.close(write_fd)
    return _Child(pid, read_fd)


def _end_child(child: _Child) -> int:
    """Close its pipe, kill it and reap it; its wait status."""
    os.close(child.read_fd)
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGKILL)
    return os.waitpid(child.pid, 0)[1]


def _finish_child(child: _Child, count: int, limits: ReadLimits
                  ) -> tuple[list[dict[str, Any]], bool]:
    """The answers of the child's ``count`` jobs, up to and including the first that failed
    (the child stopped: a ``failed`` answer for the job it was on); and whether that job ran
    out of time."""
    try:
        replies, stopped = _read_replies(child.read_fd, count, limits.timeout_s)
    finally:
        status = _end_child(child)
    if stopped == "time":
        replies.append({"failed": f"reading it took longer than {limits.timeout_s:g} s; "
                                  "it was stopped"})
    elif stopped is not None:
        how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit {os.waitstatus_to_exitcode(status)}")
        replies.append({"failed": f"too large or too complex to read (the reader stopped: "
                                  f"{how})"})
    return replies, stopped == "time"


def _child(jobs: Sequence[Callable[[], dict[str, Any]]], limits: ReadLimits,
           write_fd: int) -> None:
    """Limit this process, run each job (its CPU time limited from where it starts), write
    each JSON answer to ``write_fd`` as a frame (8-byte length, then the bytes) and exit at
    once (no atexit handler or finaliser of the grader runs here)."""
    try:
        # what the grader holds goes to the collector's permanent generation: a collection
        # here walks only what the reading made, and copies none of the grader's pages for
        # it (10-15% of a reader's CPU with the extraction; 200 files, 2.8 -> 2.5 s)
        gc.freeze()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.disable()  # a crash is reported by the parent, in one line
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)  # nothing the reader does reaches the grader's terminal
        _limit_self(limits)
        for job in jobs:
            _limit_cpu(limits)
            answer = guarded(job)
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass")
            view = memoryview(len(data).to_bytes(_HEADER, "big") + data)
            while view:
                view = view[os.write(write_fd, view[:MIB]):]
    except BaseException:  # noqa: BLE001 - the parent reports a child without an answer
        os._exit(1)
    os._exit(0)


def _limit_cpu(limits: ReadLimits) -> None:
    """CPU time: what this process has used so far plus the timeout (the parent stops it at
    the timeout anyway); the hard limit is left as it is, so the next job can move it."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + limits.timeout_s) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        cpu = min(cpu, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))


def _limit_self(limits: ReadLimits) -> None:
    """Address space: what this process maps now plus ``memory_bytes``; no core dumps."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return
    cap = mapped + limits.memory_bytes
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _read_replies(fd: int, count: int, timeout_s: float
                  ) -> tuple[list[dict[str, Any]], str | None]:
    """The answers the child sends, each within ``timeout_s`` of the one before, up to
    ``count`` or the first that failed; and why it stopped before that (None: it did not):
    "time", "closed" (the child ended) or "broken" (a frame too large or not a JSON object)."""
    replies: list[dict[str, Any]] = []
    buffer = bytearray()
    deadline = time.monotonic() + timeout_s
    while len(replies) < count:
        if len(buffer) >= _HEADER:
            size = int.from_bytes(buffer[:_HEADER], "big")
            if size > _MAX_REPLY:
                return replies, "broken"
            if len(buffer) >= _HEADER + size:
                reply = _decoded(bytes(buffer[_HEADER:_HEADER + size]))
                del buffer[:_HEADER + size]
                if reply is None:
                    return replies, "broken"
                replies.append(reply)
                if "failed" in reply:
                    break
                deadline = time.monotonic() + timeout_s
                continue
        left = deadline - time.monotonic()
        if left <= 0:
            return replies, "time"
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            continue
        chunk = os.read(fd, MIB)
        if not chunk:
            return replies, "closed"
        buffer += chunk
    return replies, None


def _decoded(data: bytes) -> dict[str, Any] | None:
    try:
        reply = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return reply if isinstance(reply, dict) else None
