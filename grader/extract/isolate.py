"""Reading and extracting an untrusted file in a child process with a time and memory limit.

    extract_file(path, required, limits) -> Extraction(assignment, module, error)
    read_submission(path, functions_of, named, limits) -> the same, for discovery: the module
        extracted for the assignment the file will be graded as, in the same child that reads
        its metadata (a file is read and extracted once per run)

Discovery and grading both read student files before any sandbox is involved, so the whole
pipeline (read_source, extract_module) runs in a forked child of the grader: its address space
is capped at what the grader already uses plus ``limits.memory_bytes``, its CPU time and its
wall-clock time at ``limits.timeout_s``. Whatever the file does to the reader (a parse that
never ends, RecursionError, MemoryError, a crash), the grader gets back one line naming the
file, and only plain JSON crosses from the child (never pickle). Forking costs a few
milliseconds: the child inherits every module the grader already imported.

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
    functions = {name: tuple(wanted) for name, wanted in functions_of.items()}

    def target(assignment: str | None) -> tuple[str | None, tuple[str, ...]]:
        chosen = assignment if assignment in functions else named
        return chosen, functions.get(chosen or "", ())

    return _read(path, limits, target)


def _read(path: Path, limits: ReadLimits,
          target: Callable[[str | None], tuple[str | None, tuple[str, ...]]]) -> Extraction:
    """Read ``path`` and extract it for ``target(its metadata's assignment)``: (the assignment
    graded as, the names to keep), in a child (in this process where there is no fork)."""
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

    reply = run_isolated(job, limits) if _FORK else _guarded(job)
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
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(job, limits, write_fd)
    os.close(write_fd)
    try:
        data, timed_out = _read_reply(read_fd, time.monotonic() + limits.timeout_s)
    finally:
        os.close(read_fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"failed": f"reading it took longer than {limits.timeout_s:g} s; it was stopped"}
    try:
        reply = json.loads(data)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit {os.waitstatus_to_exitcode(status)}")
        return {"failed": f"too large or too complex to read (the reader stopped: {how})"}
    return reply


def _child(job: Callable[[], dict[str, Any]], limits: ReadLimits, write_fd: int) -> None:
    """Limit this process, run ``job``, write its JSON to ``write_fd`` and exit at once (no
    atexit handler or finaliser of the grader runs here)."""
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
        answer = _guarded(job)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view[:MIB]):]
    except BaseException:  # noqa: BLE001 - the parent reports a child without an answer
        os._exit(1)
    os._exit(0)


def _limit_self(limits: ReadLimits) -> None:
    """Address space: what this process maps now plus ``memory_bytes``; CPU time: the
    timeout (the parent kills it at the timeout anyway); no core dumps."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = math.ceil(limits.timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
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


def _read_reply(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Everything the child writes until it closes the pipe; ``(data, timed_out)``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", True
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            continue
        chunk = os.read(fd, MIB)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > _MAX_REPLY:
            return b"", False
        chunks.append(chunk)
