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

A corrupt (or oversized) file whose name matches is still a Submission, so the grader reports
its extraction error in that student's feedback; one with no usable name is Unrecognized.
Every student folder is listed in ``students``, even one with nothing recognised, so that
student scores 0 rather than disappearing from ``grades.csv``.

Only regular files inside a student's own folder are ever read. Entries are examined without
following links (``lstat``; folders are opened with ``O_NOFOLLOW``): a symbolic link to a file
or a folder, a FIFO, a device or a socket is Unrecognized with that reason and never opened.
Files are read (for their metadata or functions) by :func:`grader.extract.isolate.extract_file`,
in a child process under the run's read limits (size, time, memory). A student folder is
examined up to :data:`MAX_ENTRIES` entries, and at most :data:`MAX_ATTEMPTS` files of one
student are graded for one assignment; what is beyond is reported, not graded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.core.course import Assignment
from grader.core.errors import ConfigError
from grader.core.files import kind_problem
from grader.extract.isolate import ReadLimits, extract_file

_IGNORED_DIRS = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__"})
_SOURCE_SUFFIXES = frozenset({".ipynb", ".py"})
#: Entries (files and folders) examined in one student folder.
MAX_ENTRIES = 1000
#: Files of one student graded for one assignment (each one is a full grading).
MAX_ATTEMPTS = 10


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


def discover(submissions_dir: Path, assignments: Sequence[Assignment],
             limits: ReadLimits | None = None) -> Discovery:
    """Walk ``submissions_dir`` and match each file to an assignment."""
    if not submissions_dir.exists():
        raise ConfigError(f"{submissions_dir}: no such submissions folder")
    if not submissions_dir.is_dir():
        raise ConfigError(f"{submissions_dir}: not a folder (expected SUBMISSIONS_DIR/<student>/)")
    limits = limits or ReadLimits()
    submissions: list[Submission] = []
    unrecognized: list[Unrecognized] = []
    students: list[str] = []
    try:
        top = _entries(submissions_dir, follow=True)  # the instructor's folder may be a link
    except OSError as exc:
        raise ConfigError(f"{submissions_dir}: cannot be listed ({exc.strerror or exc})") from None
    for path, mode in top:
        if not stat.S_ISDIR(mode):
            why = kind_problem(mode) or "file outside a student folder"
            unrecognized.append(Unrecognized(path, why))
            continue
        students.append(path.name)
        for found in _student_files(path, assignments, limits):
            (submissions if isinstance(found, Submission) else unrecognized).append(found)
    submissions.sort(key=lambda s: (s.student, s.assignment, str(s.path)))
    kept, extra = _within_attempts(submissions)
    return Discovery(tuple(kept), tuple(unrecognized + extra), tuple(students))


def discover_files(student: str, base: Path, files: Sequence[Path],
                   assignments: Sequence[Assignment], limits: ReadLimits | None = None
                   ) -> Discovery:
    """One student's ``files`` (relative to ``base``, links already left out) matched as
    :func:`discover` matches the files of a student folder, read where they are."""
    limits = limits or ReadLimits()
    submissions: list[Submission] = []
    unrecognized: list[Unrecognized] = []
    for count, relative in enumerate(sorted(files, key=lambda p: p.as_posix())):
        if count == MAX_ENTRIES:
            unrecognized.append(Unrecognized(base, f"more than {MAX_ENTRIES} files; the rest "
                                                   "were not looked at"))
            break
        found = match_file(student, base / relative, assignments, limits)
        (submissions if isinstance(found, Submission) else unrecognized).append(found)
    submissions.sort(key=lambda s: (s.student, s.assignment, str(s.path)))
    kept, extra = _within_attempts(submissions)
    return Discovery(tuple(kept), tuple(unrecognized + extra), (student,))


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


def _entries(folder: Path, follow: bool = False) -> list[tuple[Path, int]]:
    """``(path, lstat mode)`` of the folder's entries that are not ignored, sorted by name.

    The folder is opened with ``O_NOFOLLOW`` (unless ``follow``): one swapped for a link
    after it was examined is not listed."""
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(folder, flags if follow else flags | os.O_NOFOLLOW)
    try:
        with os.scandir(fd) as scan:
            found = [(entry.name, entry.stat(follow_symlinks=False).st_mode) for entry in scan
                     if not _ignored(entry.name)]
    finally:
        os.close(fd)
    return [(folder / name, mode) for name, mode in sorted(found)]


def _student_files(folder: Path, assignments: Sequence[Assignment],
                   limits: ReadLimits) -> Iterator[Submission | Unrecognized]:
    """Every regular file under a student folder, matched, in sorted (os.walk) order;
    every other entry Unrecognized with the reason."""
    stack = [folder]
    seen = 0
    while stack:
        current = stack.pop()
        try:
            entries = _entries(current)
        except OSError as exc:
            yield Unrecognized(current, f"cannot be listed ({exc.strerror or exc})")
            continue
        subfolders = []
        for path, mode in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                yield Unrecognized(folder, f"more than {MAX_ENTRIES} files and folders; "
                                           "the rest were not looked at")
                return
            if stat.S_ISDIR(mode):
                subfolders.append(path)
            elif kind_problem(mode):
                yield Unrecognized(path, kind_problem(mode) or "")
            else:
                yield match_file(folder.name, path, assignments, limits)
        stack.extend(reversed(subfolders))


def _within_attempts(submissions: list[Submission]
                     ) -> tuple[list[Submission], list[Unrecognized]]:
    """At most MAX_ATTEMPTS files per (student, assignment); the others are reported."""
    counts: dict[tuple[str, str], int] = {}
    kept: list[Submission] = []
    extra: list[Unrecognized] = []
    for s in submissions:
        key = (s.student, s.assignment)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= MAX_ATTEMPTS:
            kept.append(s)
        else:
            extra.append(Unrecognized(s.path, f"more than {MAX_ATTEMPTS} files for "
                                              f"{s.assignment}; this one is not graded"))
    return kept, extra


def match_file(student: str, path: Path, assignments: Sequence[Assignment],
               limits: ReadLimits | None = None) -> Submission | Unrecognized:
    """Which assignment ``path`` is, by metadata, then file name, then defined functions."""
    suffix = path.suffix.lower()
    if suffix not in _SOURCE_SUFFIXES:
        return Unrecognized(path, f"not a notebook or .py file ({suffix or 'no extension'})")
    ids = [a.id for a in assignments]
    by_name = ids_in_name(path.name, assignments)
    if suffix == ".py" and len(by_name) == 1:  # a .py file has no metadata: no need to read it
        return Submission(student, by_name[0], path, "file name")
    found = extract_file(path, (), limits or ReadLimits(), extract=len(by_name) != 1,
                         unless_assignment_in=ids)
    if found.assignment in ids:
        return Submission(student, str(found.assignment), path, "metadata")
    if len(by_name) == 1:
        return Submission(student, by_name[0], path, "file name")
    if found.module is None:
        return Unrecognized(path, f"cannot be read and its name names no assignment: "
                                  f"{found.error}")
    chosen, why_not = match_functions(set(found.module.defined), assignments)
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
