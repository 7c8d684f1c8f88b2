"""Unpacking an LMS download (a zip) into a staging folder the grader owns, safely.

The same approach as a Gradescope upload's unpacking (grader.integrations.gradescope.unpack),
with the caps of files read from a folder: each member is checked before a byte is written
(no absolute path, no ``..``, no link or other special file, no encrypted member, not nested
too deep) and written with its bytes counted as they come, so a member that lies about its size
stops at the cap. A member over the per-file size (``--source-mb``), beyond ``max_entries``, or
past ``max_total_bytes`` is left out and listed with why; nothing is ever written outside the
staging folder, and nothing inside the zip is unpacked further (a zip in the zip stays a file,
which discovery reports). Hidden files and ``__MACOSX`` are skipped as ``grade`` ignores them.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.core.errors import ConfigError
from grader.core.files import MIB, member_path, member_problem, write_capped

_IGNORED = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints"})


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what one downloaded zip may put in the staging folder."""

    max_file_bytes: int = 32 * MIB
    max_entries: int = 20_000
    max_total_bytes: int = 4096 * MIB
    max_depth: int = 16


@dataclass
class Unzipped:
    """The staging folder, and the members left out with why (``zip name: member``)."""

    folder: Path
    files: int = 0
    total_bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def unzip_source(archive_path: Path, target: Path, limits: ArchiveLimits = ArchiveLimits()
                 ) -> Unzipped:
    """Unpack ``archive_path`` into ``target`` (created, must be empty); a zip that cannot be
    opened at all is a ConfigError naming it."""
    target.mkdir(parents=True, exist_ok=True)
    state = Unzipped(folder=target)
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ConfigError(f"{archive_path}: not a readable zip archive ({exc})") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            inner = member_path(info.filename)
            if isinstance(inner, PurePosixPath) and any(
                    p.startswith(".") or p in _IGNORED for p in inner.parts):
                continue
            problem = inner if isinstance(inner, str) else member_problem(info)
            if problem is None and isinstance(inner, PurePosixPath) \
                    and len(inner.parts) > limits.max_depth:
                problem = "nested too deep"
            if problem is None and isinstance(inner, PurePosixPath):
                problem = _extract(archive, info, target / inner, state, limits)
            if problem is not None:
                state.skipped.append((info.filename, problem))
    return state


def _admission(size: int, state: Unzipped, limits: ArchiveLimits) -> str | None:
    if state.files >= limits.max_entries:
        return f"more than {limits.max_entries} files in the zip"
    if size > limits.max_file_bytes:
        return f"larger than {limits.max_file_bytes / MIB:g} MiB"
    if state.total_bytes + size > limits.max_total_bytes:
        return f"the zip holds more than {limits.max_total_bytes / MIB:g} MiB"
    return None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path,
             state: Unzipped, limits: ArchiveLimits) -> str | None:
    """Write one member; the reason it was left out, or None."""
    problem = _admission(info.file_size, state, limits)
    if problem:
        return problem
    taken = destination.exists() or any(
        parent.exists() and not parent.is_dir()
        for parent in destination.parents if parent.is_relative_to(state.folder))
    if taken:
        return "another file of the zip has the same name"
    destination.parent.mkdir(parents=True, exist_ok=True)
    cap = min(limits.max_file_bytes, limits.max_total_bytes - state.total_bytes)
    try:
        with archive.open(info) as source:
            written = write_capped(source, destination, cap)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
        destination.unlink(missing_ok=True)
        return f"cannot be unpacked ({exc})"
    if written is None:
        return f"larger than {cap / MIB:g} MiB once unpacked"
    state.files += 1
    state.total_bytes += written
    return None
