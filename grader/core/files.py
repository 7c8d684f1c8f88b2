"""Opening a file a student controls: regular files only, never through a link, size-capped.

Everything here is checked on the file itself, without following symbolic links: a link to
the course's reference notebook, a folder link to ``/etc``, a FIFO that would block a reader
forever, a device or a socket is never opened as a submission. A file is opened with
``O_NOFOLLOW | O_NONBLOCK`` and checked again with ``fstat`` on the open descriptor, so a file
swapped for a link or a FIFO after discovery still cannot be read; its size is checked before
any byte is read, so a 1.5 GB (sparse) file costs nothing.

Standard library only: the student bundle's self-check reads notebooks the same way.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from grader.core.errors import ExtractionError

MIB = 1024 * 1024
_CHUNK = 1 << 16
#: Largest notebook or .py file read, unless a setting says otherwise (Limits.source_mb).
DEFAULT_MAX_BYTES = 32 * MIB


@dataclass(frozen=True)
class ReadLimits:
    """How much one untrusted file may cost the grader to read and extract."""

    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = 30.0
    memory_bytes: int = 1024 * MIB

_KINDS = (
    (stat.S_ISLNK, "a symbolic link (links are never followed)"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO), not a regular file"),
    (stat.S_ISSOCK, "a socket, not a regular file"),
    (stat.S_ISCHR, "a character device, not a regular file"),
    (stat.S_ISBLK, "a block device, not a regular file"),
)


def kind_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not read (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((why for test, why in _KINDS if test(mode)), "not a regular file")


def size_problem(size: int, max_bytes: int) -> str | None:
    """Why a file of ``size`` bytes is not read (None when it is within ``max_bytes``)."""
    if size <= max_bytes:
        return None
    return f"the file is {size / MIB:.1f} MiB, over the {max_bytes / MIB:g} MiB limit"


def _fail(path: Path, problem: str) -> ExtractionError:
    return ExtractionError(f"{path.name}: {problem}")


def open_regular(path: Path, max_bytes: int) -> int:
    """A read-only descriptor of ``path``, which must be a regular file of at most ``max_bytes``.

    Raises ExtractionError naming the file and what is wrong; never blocks and never follows
    a link in the last component."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise _fail(path, kind_problem(stat.S_IFLNK) or "") from None
        raise _fail(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        info = os.fstat(fd)
        problem = kind_problem(info.st_mode) or size_problem(info.st_size, max_bytes)
        if problem:
            raise _fail(path, problem)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    fd = open_regular(path, max_bytes)
    try:
        chunks: list[bytes] = []
        left = max_bytes + 1  # one byte more tells a file that grew after fstat
        while left > 0:
            chunk = os.read(fd, min(left, MIB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise _fail(path, size_problem(len(data), max_bytes) or "")
    return data


def digest_regular(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """SHA-256 of a regular file's bytes; OSError for anything :func:`read_regular` refuses."""
    try:
        return hashlib.sha256(read_regular(path, max_bytes)).digest()
    except ExtractionError as exc:
        raise OSError(str(exc)) from None


# Zip members (a Gradescope upload, an LMS download): one rule wherever a zip is opened.


def member_path(name: str) -> PurePosixPath | str:
    """A zip member's safe relative path, or the reason it is refused."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        return "a path that climbs out of the zip (..)"
    if any("\x00" in p or not p.isprintable() for p in parts):
        return "a name with control characters"
    if not parts:
        return "an empty name"
    return PurePosixPath(*parts)


def member_problem(info: zipfile.ZipInfo) -> str | None:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "a symbolic link (never followed)"
    if kind not in (0, stat.S_IFREG):
        return "not a regular file"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def write_capped(source: IO[bytes], destination: Path, cap: int) -> int | None:
    """Copy at most ``cap`` bytes into a new file; None (and no file) if there were more."""
    written = 0
    with open(destination, "xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > cap:
                break
            out.write(chunk)
    if written > cap:
        destination.unlink()
        return None
    return written
