"""Finding the submissions in ``SUBMISSIONS_DIR`` and which assignment each one is.

Layout (course contract): ``SUBMISSIONS_DIR/<student_id>/<notebook>.ipynb`` (or ``.py``).
Files in sub-folders of a student folder count too (students zip whole folders); hidden
files and folders, ``.ipynb_checkpoints``, ``__MACOSX`` and ``__pycache__`` are ignored.

Every other file ends up either as a :class:`Submission` or as an :class:`Unrecognized` with
a reason: nothing is silently dropped. A file's assignment is decided by, in order,

1. ``metadata["grader"]["assignment"]`` that the stub put in the notebook ("metadata");
2. its file name containing exactly one assignment id, case-insensitively ("file name");
3. the functions it defines ("functions"): the assignment whose contract functions it
   defines the largest fraction of, with at least two of them (or all), and no tie.

A corrupt file whose name matches is still a Submission, so the grader reports its extraction
error in that student's feedback; a corrupt file with no usable name is Unrecognized.
Every student folder is listed in ``students``, even one with nothing recognised, so that
student scores 0 rather than disappearing from ``grades.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course import Assignment
from grader.errors import ConfigError, ExtractionError
from grader.notebook.extract import extract_module
from grader.notebook.read import notebook_assignment, read_cells

_IGNORED_DIRS = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__"})
_SOURCE_SUFFIXES = frozenset({".ipynb", ".py"})


@dataclass(frozen=True)
class Submission:
    """One file to grade. ``matched_by`` is "metadata", "file name" or "functions"."""

    student: str
    assignment: str
    path: Path
    matched_by: str


@dataclass(frozen=True)
class Unrecognized:
    """A file that is not graded, and why (shown in the run's report)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Discovery:
    """Everything found: submissions, unrecognised files, and every student folder (sorted)."""

    submissions: tuple[Submission, ...]
    unrecognized: tuple[Unrecognized, ...]
    students: tuple[str, ...]


def discover(submissions_dir: Path, assignments: Sequence[Assignment]) -> Discovery:
    """Walk ``submissions_dir`` and match each file to an assignment."""
    if not submissions_dir.exists():
        raise ConfigError(f"{submissions_dir}: no such submissions folder")
    if not submissions_dir.is_dir():
        raise ConfigError(f"{submissions_dir}: not a folder (expected SUBMISSIONS_DIR/<student>/)")
    submissions: list[Submission] = []
    unrecognized: list[Unrecognized] = []
    students: list[str] = []
    for entry in sorted(submissions_dir.iterdir()):
        if _ignored(entry.name):
            continue
        if not entry.is_dir():
            unrecognized.append(Unrecognized(entry, "file outside a student folder"))
            continue
        students.append(entry.name)
        for path in _student_files(entry):
            found = match_file(entry.name, path, assignments)
            if isinstance(found, Submission):
                submissions.append(found)
            else:
                unrecognized.append(found)
    submissions.sort(key=lambda s: (s.student, s.assignment, str(s.path)))
    return Discovery(tuple(submissions), tuple(unrecognized), tuple(students))


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


def _student_files(folder: Path) -> Iterator[Path]:
    """Every non-ignored file under a student folder, recursively, in sorted order."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        for name in sorted(files):
            if not _ignored(name):
                yield Path(root) / name


def match_file(
    student: str, path: Path, assignments: Sequence[Assignment]
) -> Submission | Unrecognized:
    """Which assignment ``path`` is, by metadata, then file name, then defined functions."""
    suffix = path.suffix.lower()
    if suffix not in _SOURCE_SUFFIXES:
        return Unrecognized(path, f"not a notebook or .py file ({suffix or 'no extension'})")
    ids = {a.id for a in assignments}
    from_metadata = notebook_assignment(path)
    if from_metadata in ids:
        return Submission(student, str(from_metadata), path, "metadata")
    by_name = ids_in_name(path.name, assignments)
    if len(by_name) == 1:
        return Submission(student, by_name[0], path, "file name")
    try:
        defined = set(extract_module(read_cells(path), ()).defined)
    except ExtractionError as exc:
        return Unrecognized(path, f"cannot be read and its name names no assignment: {exc}")
    chosen, why_not = match_functions(defined, assignments)
    if chosen is not None:
        return Submission(student, chosen, path, "functions")
    if by_name:
        return Unrecognized(path, f"matches several assignments by name: {', '.join(by_name)}")
    return Unrecognized(path, f"no assignment id in its metadata or name, and it {why_not}")


def ids_in_name(file_name: str, assignments: Sequence[Assignment]) -> list[str]:
    """Assignment ids the file name contains, case-insensitively, in course order."""
    lowered = file_name.lower()
    return [a.id for a in assignments if a.id.lower() in lowered]


def match_functions(defined: set[str], assignments: Sequence[Assignment]) -> tuple[str | None, str]:
    """The assignment whose functions ``defined`` covers best, or None and why not."""
    scored = []
    for assignment in assignments:
        wanted = set(assignment.functions)
        hits = wanted & defined
        if wanted and (len(hits) >= 2 or hits == wanted):
            scored.append((len(hits) / len(wanted), assignment.id))
    if not scored:
        partial = sorted(defined & {f for a in assignments for f in a.functions})
        if partial:
            return None, f"defines too few of any assignment's functions ({', '.join(partial)})"
        return None, "defines none of the assignments' functions"
    best = max(score for score, _ in scored)
    winners = [name for score, name in scored if score == best]
    if len(winners) > 1:
        return None, f"defines the functions of several assignments equally: {', '.join(winners)}"
    return winners[0], ""
