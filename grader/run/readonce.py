"""Student files read once, by descriptor (grader.run.discover uses it).

Each student folder is opened once (``O_DIRECTORY | O_NOFOLLOW``) and every folder and file
below it through ``openat`` on its parent's descriptor, with ``O_NOFOLLOW`` at every level: no
link anywhere in the path is followed, and a folder swapped for a link after it was opened
changes nothing. A regular file with more than one hard link (it may be a course file linked
in) and one whose bytes are a course file's (``solutions/``) are Unrecognized with the reason.
The bytes read are copied to a snapshot in a folder only the grader can enter
(:class:`Snapshots`); extraction, grading, the cache key and cluster tasks read that copy
(``Job.read_from``), never the student's path again.
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.files import MIB, kind_problem
from grader.extract.isolate import ReadLimits

#: Entries (files and folders) examined in one student folder.
MAX_ENTRIES = 1000
SOURCE_SUFFIXES = frozenset({".ipynb", ".py"})

#: what a file read becomes: a Submission or an Unrecognized of grader.run.discover
Found = Any

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


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



def entries(fd: int, ignored: Callable[[str], bool]) -> list[tuple[str, int]]:
    """``(name, lstat mode)`` of the open folder's entries that are not ignored, by name."""
    with os.scandir(fd) as scan:
        found = [(entry.name, entry.stat(follow_symlinks=False).st_mode) for entry in scan
                 if not ignored(entry.name)]
    return sorted(found)


@dataclass
class Reader:
    """Reads the files of student folders by descriptor (see the module docstring)."""

    #: ``match(student, path, source, name)``: the Submission or Unrecognized a file read is
    match: Callable[[str, Path, Path | None, str | None], Found]
    #: ``unrecognized(path, reason)``: an Unrecognized of grader.run.discover
    unrecognized: Callable[[Path, str], Found]
    limits: ReadLimits
    course: Mapping[bytes, str]
    snapshots: Snapshots
    ignored: Callable[[str], bool]

    def student_files(self, parent: int, folder: Path, student: str
                      ) -> Iterator[Found]:
        """Every regular file under a student folder, matched, in sorted (os.walk) order;
        every other entry Unrecognized with the reason. Each folder is opened through its
        parent's descriptor (``pending``: folders still to open through it)."""
        stack = [(parent, folder)]
        pending: dict[int, int] = {}
        try:
            yield from self._walk(stack, pending, folder, student)
        finally:
            for fd in pending:
                os.close(fd)

    def _walk(self, stack: list[tuple[int, Path]], pending: dict[int, int],
              folder: Path, student: str) -> Iterator[Found]:
        seen = 0
        while stack:
            parent_fd, current = stack.pop()
            try:
                fd = os.open(current.name, DIR_FLAGS, dir_fd=parent_fd)
            except OSError as exc:
                yield self.unrecognized(current, _open_problem(exc, "listed"))
                continue
            finally:
                if parent_fd in pending:
                    pending[parent_fd] -= 1
                    if not pending[parent_fd]:
                        del pending[parent_fd]
                        os.close(parent_fd)
            pending[fd] = 1  # held while this folder's own entries are read
            try:
                found = entries(fd, self.ignored)
            except OSError as exc:
                found = []
                yield self.unrecognized(current, f"cannot be listed ({exc.strerror or exc})")
            subfolders = []
            for name, mode in found:
                seen += 1
                if seen > MAX_ENTRIES:
                    yield self.unrecognized(folder, f"more than {MAX_ENTRIES} files and folders; "
                                               "the rest were not looked at")
                    return
                path = current / name
                if stat.S_ISDIR(mode):
                    subfolders.append(path)
                elif kind_problem(mode):
                    yield self.unrecognized(path, kind_problem(mode) or "")
                else:
                    yield self.read_file(student, fd, path)
            stack.extend((fd, sub) for sub in reversed(subfolders))
            pending[fd] = len(subfolders)
            if not subfolders:
                del pending[fd]
                os.close(fd)

    def read_file(self, student: str, folder_fd: int, path: Path, name: str | None = None
                  ) -> Found:
        """Read one file through its folder's descriptor, once, and match it (``name``: its
        original name, where the LMS renamed it)."""
        if Path(name or path.name).suffix.lower() not in SOURCE_SUFFIXES:
            return self.match(student, path, None, name)
        try:
            fd = os.open(path.name, FILE_FLAGS, dir_fd=folder_fd)
        except OSError as exc:
            return self.unrecognized(path, _open_problem(exc, "read"))
        try:
            info = os.fstat(fd)
            problem = kind_problem(info.st_mode)
            if problem is None and info.st_nlink > 1:
                problem = (f"has {info.st_nlink} hard links: a file linked from elsewhere "
                           "(a course file, another student's) is never graded")
            if problem:
                return self.unrecognized(path, problem)
            data = b"" if info.st_size > self.limits.max_bytes else _read_all(fd, path)
        except OSError as exc:
            return self.unrecognized(path, f"cannot be read ({exc.strerror or exc})")
        finally:
            os.close(fd)
        if len(data) > self.limits.max_bytes:  # it grew after fstat
            data = b""
        copy_of = self.course.get(hashlib.sha256(data).digest()) if data else None
        if copy_of is not None:
            return self.unrecognized(path, f"is a copy of the course's own {copy_of}, never "
                                           "graded as a student's")
        source = self.snapshots.keep(path.name, data, max(info.st_size, len(data)))
        return self.match(student, path, source, name)

    def folder_files(self, folder: Path, student: str) -> Iterator[Found]:
        """Every file under ``folder`` (a student's), opened through its parent, which the
        instructor's layout chose (followed)."""
        try:
            parent = os.open(folder.parent, DIR_FLAGS & ~os.O_NOFOLLOW)
        except OSError as exc:
            yield self.unrecognized(folder, f"cannot be listed ({exc.strerror or exc})")
            return
        try:
            yield from self.student_files(parent, folder, student)
        finally:
            os.close(parent)

    def handed_file(self, path: Path, student: str, name: str) -> Found:
        """One file a layout lists for a student, read through its folder's descriptor."""
        try:
            parent = os.open(path.parent, DIR_FLAGS & ~os.O_NOFOLLOW)
        except OSError as exc:
            return self.unrecognized(path, f"cannot be read ({exc.strerror or exc})")
        try:
            return self.read_file(student, parent, path, name)
        finally:
            os.close(parent)


def _read_all(fd: int, path: Path) -> bytes:
    os.set_blocking(fd, True)
    chunks = []
    while chunk := os.read(fd, MIB):
        chunks.append(chunk)
    return b"".join(chunks)


def _open_problem(exc: OSError, verb: str) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a link (swapped in)
        return kind_problem(stat.S_IFLNK) or ""
    return f"cannot be {verb} ({exc.strerror or exc})"
