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
file, and only plain JSON crosses from the child (never pickle): the children are
grader.extract.children's. Forking costs a few milliseconds: the child inherits every module
the grader already imported. A fork and a fresh process's first extraction were most of what
a small notebook cost to read (200 files: 7.5 ms of a reader's CPU each, against 2.3 ms for
the same work in one process), so one child reads a student's files in turn
(:class:`SubmissionsReading`), each under its own limits, and its answers are those of a
child per file; discovery starts the next student's child before it waits for this one's.

The child is a Linux feature here (the address-space cap reads ``/proc/self/statm``); on other
systems, the student's own laptop running the self-check, the same pipeline runs in this
process, still catching every error (the size and count caps of the pipeline hold there too).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.errors import ExtractionError
from grader.core.files import ReadLimits
from grader.extract.children import Reading, guarded, run_isolated
from grader.extract.pipeline import StudentModule, extract_module
from grader.extract.read import Cell, read_source

#: Forking is used on Linux (elsewhere, e.g. macOS libraries that are not fork-safe, or
#: Windows without fork, the same steps run in this process).
_FORK = hasattr(os, "fork") and sys.platform.startswith("linux")
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
    child for all of them rather than one each (:class:`Reading`: a fork, and the warm-up of
    a first file in a fresh process, were most of what reading a notebook cost). The answers
    are read_submission's, file for file."""
    return SubmissionsReading(files, functions_of, limits).extractions()


class SubmissionsReading:
    """:func:`read_submissions` started: its child reads while the caller goes on (discovery
    walks the next student's folder and starts that student's reader);
    :meth:`extractions` waits for the answers, :meth:`cancel` stops the child."""

    def __init__(self, files: Sequence[tuple[Path, str | None]],
                 functions_of: Mapping[str, Sequence[str]],
                 limits: ReadLimits = _DEFAULT_LIMITS) -> None:
        functions = {name: tuple(wanted) for name, wanted in functions_of.items()}

        def job(path: Path, named: str | None) -> Callable[[], dict[str, Any]]:
            def target(assignment: str | None) -> tuple[str | None, tuple[str, ...]]:
                chosen = assignment if assignment in functions else named
                return chosen, functions.get(chosen or "", ())
            return _job(path, target, limits)

        self.paths = [path for path, _ in files]
        self.reading = Reading([job(path, named) for path, named in files], limits,
                               fork=_FORK)

    def extractions(self) -> list[Extraction]:
        return [_extraction(path, reply)
                for path, reply in zip(self.paths, self.reading.answers(), strict=True)]

    def cancel(self) -> None:
        self.reading.cancel()


def _read(path: Path, limits: ReadLimits,
          target: Callable[[str | None], tuple[str | None, tuple[str, ...]]]) -> Extraction:
    """Read ``path`` and extract it for ``target(its metadata's assignment)``: (the assignment
    graded as, the names to keep), in a child (in this process where there is no fork)."""
    job = _job(path, target, limits)
    return _extraction(path, run_isolated(job, limits) if _FORK else guarded(job))


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
