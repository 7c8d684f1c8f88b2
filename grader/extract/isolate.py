"""Reading and extracting an untrusted file in a child process with a time and memory limit.

    extract_file(path, required, limits) -> Extraction(assignment, module, error)
    read_submission(path, functions_of, named, limits) -> the same, for discovery: the module
        extracted for the assignment the file will be graded as, in the same child that reads
        its metadata (a file is read and extracted once per run)
    read_submissions([(path, named), ...], functions_of, limits) -> [Extraction, ...]: each
        as read_submission answers it, one student's files read in one child

Discovery and grading both read student files before any sandbox is involved, so the whole
pipeline (read_source, extract_module) runs in a forked child of the grader: its address space
is capped at what the grader already uses plus ``limits.memory_bytes``, its CPU time and its
wall-clock time at ``limits.timeout_s``. Whatever the file does to the reader (a parse that
never ends, RecursionError, MemoryError, a crash), the grader gets back one line naming the
file, and only plain JSON crosses from the child (never pickle). Forking costs a few
milliseconds: the child inherits every module the grader already imported. A fork and a
fresh process's first extraction were most of what a small notebook cost to read (200
files: 7.5 ms of a reader's CPU each, against 2.3 ms for the same work in one process), so
one child reads several files in turn (:func:`run_each_isolated`), each under its own
limits, and its answers are those of a child per file.

The child is a Linux feature here (the address-space cap reads ``/proc/self/statm``); on other
systems, the student's own laptop running the self-check, the same pipeline runs in this
process, still catching every error (the size and count caps of the pipeline hold there too).
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
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.errors import ExtractionError
from grader.core.files import MIB, ReadLimits
from grader.extract.pipeline import StudentModule, extract_module
from grader.extract.read import Cell, read_source

#: Forking is used on Linux (elsewhere, e.g. macOS libraries that are not fork-safe, or
#: Windows without fork, the same steps run in this process).
_FORK = hasattr(os, "fork") and sys.platform.startswith("linux")
#: Largest answer a child may send (statements of a maximal file, JSON-escaped).
_MAX_REPLY = 64 * MIB
#: Bytes of the length before each answer a child sends.
_HEADER = 8
#: Unless a setting says otherwise (Limits.reader()).
_DEFAULT_LIMITS = ReadLimits()
#: Largest module (its statements' and notes' characters) discovery keeps for grading: a
#: class's modules wait in the grader's memory until graded, so a larger one (a file can hold
#: 32 MiB) is left for grading to extract again.
KEEP_CHARS = 256 * 1024


@dataclass(frozen=True)
class Extraction:
    """What reading a file gave: the assignment its metadata names (None when none or when it
    cannot be read), its module (None when not asked for or unreadable), and the one-line
    reason it could not be read or extracted (None when it could)."""

    assignment: str | None
    module: StudentModule | None
    error: str | None
    #: read_submission: the assignment whose functions the module keeps (None: none kept)
    graded_as: str | None = None


def extract_file(path: Path, required: Sequence[str] = (), limits: ReadLimits = _DEFAULT_LIMITS
                 ) -> Extraction:
    """Read ``path`` and extract its module (keeping ``required`` names), in a child process."""
    wanted = tuple(required)
    return _read(path, limits, lambda assignment: (None, wanted))


def read_submission(path: Path, functions_of: Mapping[str, Sequence[str]], named: str | None,
                    limits: ReadLimits = _DEFAULT_LIMITS) -> Extraction:
    """Read ``path`` for discovery, in one child: its metadata's assignment, and its module
    extracted for the assignment it will be graded as, the metadata's (when it is one of
    ``functions_of``) else ``named`` (the one assignment its file name names), keeping that
    assignment's functions (``graded_as`` says which); with neither, extracted keeping none,
    for matching by the functions it defines. A module over :data:`KEEP_CHARS` is not sent
    back for an assignment (``graded_as`` None: grading extracts it)."""
    return read_submissions([(path, named)], functions_of, limits)[0]


def read_submissions(files: Sequence[tuple[Path, str | None]],
                     functions_of: Mapping[str, Sequence[str]],
                     limits: ReadLimits = _DEFAULT_LIMITS) -> list[Extraction]:
    """:func:`read_submission` of each ``(path, named)`` of ``files`` (one student's), in one
    child for all of them rather than one each (:func:`run_each_isolated`: a fork, and the
    warm-up of a first file in a fresh process, were most of what reading a notebook cost).
    The answers are read_submission's, file for file."""
    functions = {name: tuple(wanted) for name, wanted in functions_of.items()}

    def job(path: Path, named: str | None) -> Callable[[], dict[str, Any]]:
        def target(assignment: str | None) -> tuple[str | None, tuple[str, ...]]:
            chosen = assignment if assignment in functions else named
            return chosen, functions.get(chosen or "", ())
        return _job(path, target, limits)

    jobs = [job(path, named) for path, named in files]
    replies = run_each_isolated(jobs, limits) if _FORK else [_guarded(j) for j in jobs]
    return [_extraction(path, reply) for (path, _), reply in zip(files, replies, strict=True)]


def _read(path: Path, limits: ReadLimits,
          target: Callable[[str | None], tuple[str | None, tuple[str, ...]]]) -> Extraction:
    """Read ``path`` and extract it for ``target(its metadata's assignment)``: (the assignment
    graded as, the names to keep), in a child (in this process where there is no fork)."""
    job = _job(path, target, limits)
    return _extraction(path, run_isolated(job, limits) if _FORK else _guarded(job))


def _job(path: Path, target: Callable[[str | None], tuple[str | None, tuple[str, ...]]],
         limits: ReadLimits) -> Callable[[], dict[str, Any]]:
    """The work of reading ``path`` (run in a reader child): its JSON-ready answer."""
    def job() -> dict[str, Any]:
        try:
            source = read_source(path, limits.max_bytes)
        except ExtractionError as exc:  # its message names the file already
            return {"assignment": None, "module": None, "error": str(exc),
                    "graded_as": target(None)[0]}
        graded_as, required = target(source.assignment)
        reply = _module_reply(path, source.cells, required)
        if graded_as is not None and _chars(reply.get("module")) > KEEP_CHARS:
            return {"assignment": source.assignment, "module": None, "error": None}
        return {"assignment": source.assignment, "graded_as": graded_as, **reply}

    return job


def _extraction(path: Path, reply: dict[str, Any]) -> Extraction:
    if "failed" in reply:
        return Extraction(None, None, f"{path.name}: {reply['failed']}")
    return _from_reply(reply)


def _module_reply(path: Path, cells: list[Cell], required: Sequence[str]) -> dict[str, Any]:
    """The extracted module as JSON-ready data, or the one-line reason it cannot be."""
    try:
        module = extract_module(cells, required)
    except ExtractionError as exc:
        return {"module": None, "error": f"{path.name}: {exc}"}
    return {"error": None, "module": {
        "statements": list(module.statements), "defined": list(module.defined),
        "notes": list(module.notes), "origins": [list(o) for o in module.origins]}}


def _chars(module: dict[str, list[Any]] | None) -> int:
    if module is None:
        return 0
    return sum(len(text) for key in ("statements", "notes") for text in module[key])


def _from_reply(reply: dict[str, Any]) -> Extraction:
    assignment = reply.get("assignment")
    module = reply.get("module")
    error = reply.get("error")
    built = None
    if isinstance(module, dict):
        built = StudentModule(*(tuple(str(item) for item in module.get(key, ()))
                                for key in ("statements", "defined", "notes")),
                              origins=_origins(module.get("origins")))
    graded_as = reply.get("graded_as")
    return Extraction(assignment if isinstance(assignment, str) else None, built,
                      str(error) if error is not None else None,
                      graded_as if isinstance(graded_as, str) else None)


def _origins(data: Any) -> tuple[tuple[int, int], ...]:
    """The child's (cell, line) pairs; anything else is no origins (plain references stay)."""
    if not isinstance(data, list) or not all(
            isinstance(o, list) and len(o) == 2 and all(type(v) is int and v >= 0 for v in o)
            for o in data):
        return ()
    return tuple((o[0], o[1]) for o in data)


def _guarded(job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
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
    return run_each_isolated([job], limits)[0]


def run_each_isolated(jobs: Sequence[Callable[[], dict[str, Any]]], limits: ReadLimits
                      ) -> list[dict[str, Any]]:
    """Each of ``jobs`` run as :func:`run_isolated` runs one, in as few forked children as
    they allow: a child runs them in turn, each under its own time limit, and sends each
    answer as it is done. The answers are run_isolated's, job for job: a job that failed
    after another ran in the same child (memory that one left behind may be why) is run
    again, first in a fresh child, with the jobs after it; a job that ran out of time is not
    run twice (its time was its own), the jobs after it go on in a fresh child."""
    replies: list[dict[str, Any]] = []
    while len(replies) < len(jobs):
        got, timed_out = _run_in_child(jobs[len(replies):], limits)
        if len(got) > 1 and "failed" in got[-1] and not timed_out:
            got.pop()
        replies.extend(got)
    return replies


def _run_in_child(jobs: Sequence[Callable[[], dict[str, Any]]], limits: ReadLimits
                  ) -> tuple[list[dict[str, Any]], bool]:
    """The answers of ``jobs`` run in turn in one forked child, up to and including the first
    that failed (the child stopped: a ``failed`` answer for the job it was on); and whether
    that job ran out of time."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(jobs, limits, write_fd)
    os.close(write_fd)
    try:
        replies, stopped = _read_replies(read_fd, len(jobs), limits.timeout_s)
    finally:
        os.close(read_fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
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
            answer = _guarded(job)
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
