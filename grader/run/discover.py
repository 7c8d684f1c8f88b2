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

Only regular files inside a student's own folder are ever read, and each is read once, by
descriptor: the student folder is opened once (``O_DIRECTORY | O_NOFOLLOW``) and every folder
and file below it through ``openat`` on its parent's descriptor, with ``O_NOFOLLOW`` at every
level, so no link anywhere in the path is followed, and a folder swapped for a link after it
was opened changes nothing. A symbolic link, a FIFO, a device or a socket is Unrecognized with
that reason and never read; so is a regular file with more than one hard link (it may be a
course file linked in) and one whose bytes are those of a course file (``solutions/``). The
bytes read are copied to a snapshot in a folder only the grader can enter
(:class:`Snapshots`); extraction, grading and the cache key all read that copy, never the
student's path again. Files are extracted (for their metadata or functions) by
:func:`grader.extract.isolate.extract_file`, in a child process under the run's read limits
(size, time, memory). A student folder is
examined up to :data:`MAX_ENTRIES` entries, and at most :data:`MAX_ATTEMPTS` files of one
student are graded for one assignment; what is beyond is reported, not graded.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.course import Assignment
from grader.core.errors import ConfigError
from grader.core.files import MIB, kind_problem
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
    #: the grader's private copy of the bytes read at discovery: what is graded and hashed
    source: Path | None = field(default=None, compare=False)


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


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class Snapshots:
    """The bytes of each student file as read at discovery, kept in a folder of the grader's
    own (mode 0700, removed when the process ends): what is extracted, graded and hashed."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.count = 0

    def keep(self, name: str, data: bytes, size: int) -> Path:
        """A private copy named ``name``; a file over the read limit (``data`` empty) becomes
        a sparse file of its ``size``, so reading it fails with its real size."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="nn-grader-read-"))
            atexit.register(shutil.rmtree, self.folder, True)
        self.count += 1
        path = self.folder / str(self.count) / name
        path.parent.mkdir(mode=0o700)
        with open(path, "wb") as copy:
            copy.write(data)
            if not data and size:
                copy.truncate(size)
        return path


def course_files(root: Path) -> dict[bytes, str]:
    """SHA-256 of every regular file under the course's ``solutions/`` -> its course path:
    a student file with the same bytes is the course's own, never graded as the student's."""
    found: dict[bytes, str] = {}
    folder = root / "solutions"
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= 64 * MIB:
            found[hashlib.sha256(path.read_bytes()).digest()] = \
                path.relative_to(root).as_posix()
    return found


def discover(submissions_dir: Path, assignments: Sequence[Assignment],
             limits: ReadLimits | None = None,
             course: Mapping[bytes, str] | None = None) -> Discovery:
    """Walk ``submissions_dir`` and match each file to an assignment. ``course``: the
    digests of the course's files (:func:`course_files`), never accepted as a submission."""
    if not submissions_dir.exists():
        raise ConfigError(f"{submissions_dir}: no such submissions folder")
    if not submissions_dir.is_dir():
        raise ConfigError(f"{submissions_dir}: not a folder (expected SUBMISSIONS_DIR/<student>/)")
    limits = limits or ReadLimits()
    submissions: list[Submission] = []
    unrecognized: list[Unrecognized] = []
    students: list[str] = []
    try:  # the instructor's folder may be a link
        top = os.open(submissions_dir, _DIR_FLAGS & ~os.O_NOFOLLOW)
    except OSError as exc:
        raise ConfigError(f"{submissions_dir}: cannot be listed ({exc.strerror or exc})") from None
    reader = _Reader(assignments, limits, course or {}, Snapshots())
    try:
        for name, mode in _entries(top):
            path = submissions_dir / name
            if not stat.S_ISDIR(mode):
                why = kind_problem(mode) or "file outside a student folder"
                unrecognized.append(Unrecognized(path, why))
                continue
            students.append(name)
            for found in reader.student_files(top, path):
                (submissions if isinstance(found, Submission) else unrecognized).append(found)
    finally:
        os.close(top)
    submissions.sort(key=lambda s: (s.student, s.assignment, str(s.path)))
    kept, extra = _within_attempts(submissions)
    return Discovery(tuple(kept), tuple(unrecognized + extra), tuple(students))


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


def _entries(fd: int) -> list[tuple[str, int]]:
    """``(name, lstat mode)`` of the open folder's entries that are not ignored, by name."""
    with os.scandir(fd) as scan:
        found = [(entry.name, entry.stat(follow_symlinks=False).st_mode) for entry in scan
                 if not _ignored(entry.name)]
    return sorted(found)


@dataclass
class _Reader:
    """Reads the files of student folders by descriptor (see the module docstring)."""

    assignments: Sequence[Assignment]
    limits: ReadLimits
    course: Mapping[bytes, str]
    snapshots: Snapshots

    def student_files(self, parent: int, folder: Path) -> Iterator[Submission | Unrecognized]:
        """Every regular file under a student folder, matched, in sorted (os.walk) order;
        every other entry Unrecognized with the reason. Each folder is opened through its
        parent's descriptor (``pending``: folders still to open through it)."""
        stack = [(parent, folder)]
        pending: dict[int, int] = {}
        try:
            yield from self._walk(stack, pending, folder)
        finally:
            for fd in pending:
                os.close(fd)

    def _walk(self, stack: list[tuple[int, Path]], pending: dict[int, int],
              folder: Path) -> Iterator[Submission | Unrecognized]:
        seen = 0
        while stack:
            parent_fd, current = stack.pop()
            try:
                fd = os.open(current.name, _DIR_FLAGS, dir_fd=parent_fd)
            except OSError as exc:
                yield Unrecognized(current, _open_problem(exc, "listed"))
                continue
            finally:
                if parent_fd in pending:
                    pending[parent_fd] -= 1
                    if not pending[parent_fd]:
                        del pending[parent_fd]
                        os.close(parent_fd)
            pending[fd] = 1  # held while this folder's own entries are read
            try:
                entries = _entries(fd)
            except OSError as exc:
                entries = []
                yield Unrecognized(current, f"cannot be listed ({exc.strerror or exc})")
            subfolders = []
            for name, mode in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    yield Unrecognized(folder, f"more than {MAX_ENTRIES} files and folders; "
                                               "the rest were not looked at")
                    return
                path = current / name
                if stat.S_ISDIR(mode):
                    subfolders.append(path)
                elif kind_problem(mode):
                    yield Unrecognized(path, kind_problem(mode) or "")
                else:
                    yield self.read_file(folder.name, fd, path)
            stack.extend((fd, sub) for sub in reversed(subfolders))
            pending[fd] = len(subfolders)
            if not subfolders:
                del pending[fd]
                os.close(fd)

    def read_file(self, student: str, folder_fd: int, path: Path) -> Submission | Unrecognized:
        """Read one file through its folder's descriptor, once, and match it."""
        if path.suffix.lower() not in _SOURCE_SUFFIXES:
            return match_file(student, path, self.assignments, self.limits)
        try:
            fd = os.open(path.name, _FILE_FLAGS, dir_fd=folder_fd)
        except OSError as exc:
            return Unrecognized(path, _open_problem(exc, "read"))
        try:
            info = os.fstat(fd)
            problem = kind_problem(info.st_mode)
            if problem is None and info.st_nlink > 1:
                problem = (f"has {info.st_nlink} hard links: a file linked from elsewhere "
                           "(a course file, another student's) is never graded")
            if problem:
                return Unrecognized(path, problem)
            data = b"" if info.st_size > self.limits.max_bytes else _read_all(fd, path)
        except OSError as exc:
            return Unrecognized(path, f"cannot be read ({exc.strerror or exc})")
        finally:
            os.close(fd)
        if len(data) > self.limits.max_bytes:  # it grew after fstat
            data = b""
        copy_of = self.course.get(hashlib.sha256(data).digest()) if data else None
        if copy_of is not None:
            return Unrecognized(path, f"is a copy of the course's own {copy_of}, never graded "
                                      "as a student's")
        source = self.snapshots.keep(path.name, data, max(info.st_size, len(data)))
        return match_file(student, path, self.assignments, self.limits, source=source)


def _read_all(fd: int, path: Path) -> bytes:
    os.set_blocking(fd, True)
    chunks = []
    while chunk := os.read(fd, MIB):
        chunks.append(chunk)
    return b"".join(chunks)


def _open_problem(exc: OSError, verb: str) -> str:
    import errno

    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a link (swapped in)
        return kind_problem(stat.S_IFLNK) or ""
    return f"cannot be {verb} ({exc.strerror or exc})"


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
               limits: ReadLimits | None = None, source: Path | None = None
               ) -> Submission | Unrecognized:
    """Which assignment ``path`` is, by metadata, then file name, then defined functions.
    ``source``: the grader's copy of its bytes (read instead of ``path``)."""
    suffix = path.suffix.lower()
    if suffix not in _SOURCE_SUFFIXES:
        return Unrecognized(path, f"not a notebook or .py file ({suffix or 'no extension'})")
    ids = [a.id for a in assignments]
    by_name = ids_in_name(path.name, assignments)
    if suffix == ".py" and len(by_name) == 1:  # a .py file has no metadata: no need to read it
        return Submission(student, by_name[0], path, "file name", source)
    found = extract_file(source or path, (), limits or ReadLimits(), extract=len(by_name) != 1,
                         unless_assignment_in=ids)
    if found.assignment in ids:
        return Submission(student, str(found.assignment), path, "metadata", source)
    if len(by_name) == 1:
        return Submission(student, by_name[0], path, "file name", source)
    if found.module is None:
        return Unrecognized(path, f"cannot be read and its name names no assignment: "
                                  f"{found.error}")
    chosen, why_not = match_functions(set(found.module.defined), assignments)
    if chosen is not None:
        return Submission(student, chosen, path, "functions", source)
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
