"""A student's Gradescope upload, copied into a staging folder we own, zips unpacked safely.

Everything in the upload is hostile input. Only regular files are copied: symbolic links
(which could point at the course's files) and anything else are listed as not graded. A
``.zip`` is unpacked into a folder named after it, member by member: no absolute path, no
``..``, no link, no encrypted member, and size and count caps that hold however a member
lies about its size (bytes are counted while they are written). A zip inside a zip is not
unpacked (it is listed by discovery as not a notebook). Hidden files and folders (``.git``)
and ``__MACOSX`` are skipped silently, as ``grade`` ignores them.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.core.files import member_path, member_problem, write_capped

_IGNORED = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints"})


@dataclass(frozen=True)
class UploadLimits:
    """Caps on what one upload may put in the staging folder."""

    max_files: int = 500
    max_file_bytes: int = 32 * 1024 * 1024
    max_total_bytes: int = 128 * 1024 * 1024
    max_depth: int = 16


@dataclass
class Unpacked:
    """The staging folder's files (relative paths) and what was left out, with why."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    total_bytes: int = 0


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED


def _walk(folder: Path) -> Iterator[Path]:
    """Every entry under ``folder`` that is not a folder; links (to folders too) not followed."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        links = [d for d in dirs if (here / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if d not in links and not _ignored(d))
        yield from (here / name for name in sorted([*links, *files]) if not _ignored(name))


def unpack_upload(submission: Path, target: Path, limits: UploadLimits = UploadLimits()
                  ) -> Unpacked:
    """Copy ``submission``'s files into ``target`` (created), unpacking zips."""
    target.mkdir(parents=True, exist_ok=True)
    state = Unpacked(folder=target)
    if not submission.is_dir():
        return state
    for path in _walk(submission):
        relative = path.relative_to(submission)
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            state.skipped.append((relative.as_posix(), "a symbolic link (never followed)"))
        elif not stat.S_ISREG(mode):
            state.skipped.append((relative.as_posix(), "not a regular file"))
        elif len(relative.parts) > limits.max_depth:
            state.skipped.append((relative.as_posix(), "nested too deep"))
        elif relative.suffix.lower() == ".zip":
            _unzip(path, relative, state, limits)
        else:
            _copy(path, relative, state, limits)
    return state


def _admit(name: str, size: int, state: Unpacked, limits: UploadLimits) -> bool:
    """Whether a file of ``size`` bytes still fits the caps (else it is listed as skipped)."""
    if len(state.files) >= limits.max_files:
        state.skipped.append((name, f"more than {limits.max_files} files in the upload"))
    elif size > limits.max_file_bytes:
        state.skipped.append((name, f"larger than {limits.max_file_bytes // 2**20} MiB"))
    elif state.total_bytes + size > limits.max_total_bytes:
        state.skipped.append((name, f"the upload exceeds {limits.max_total_bytes // 2**20} MiB"))
    else:
        return True
    return False


def _place(relative: Path, label: str, state: Unpacked) -> Path | None:
    """Where a file goes in the staging folder; None (listed) if that name is taken."""
    destination = state.folder / relative
    taken = destination.exists() or any(
        parent.exists() and not parent.is_dir()
        for parent in destination.parents if parent.is_relative_to(state.folder))
    if taken:
        state.skipped.append((label, "another file of the upload has the same name"))
        return None
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination


def _copy(path: Path, relative: Path, state: Unpacked, limits: UploadLimits) -> None:
    label = relative.as_posix()
    if not _admit(label, path.stat().st_size, state, limits):
        return
    destination = _place(relative, label, state)
    if destination is None:
        return
    with open(path, "rb") as source:
        written = write_capped(source, destination, limits.max_file_bytes)
    if written is None:
        state.skipped.append((relative.as_posix(), "changed size while it was copied"))
        return
    state.files.append(relative)
    state.total_bytes += written


def _unzip(path: Path, relative: Path, state: Unpacked, limits: UploadLimits) -> None:
    base = relative.with_suffix("")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        state.skipped.append((relative.as_posix(), f"not a readable zip archive ({exc})"))
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            label = f"{relative.as_posix()}: {info.filename}"
            inner = member_path(info.filename)
            if isinstance(inner, PurePosixPath) and any(_ignored(p) for p in inner.parts):
                continue
            problem = inner if isinstance(inner, str) else member_problem(info)
            if problem is None and len(base.parts) + len(inner.parts) > limits.max_depth:
                problem = "nested too deep"
            if problem is not None:
                state.skipped.append((label, problem))
                continue
            _extract(archive, info, base / inner, label, state, limits)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, relative: Path, label: str,
             state: Unpacked, limits: UploadLimits) -> None:
    if not _admit(label, info.file_size, state, limits):
        return
    destination = _place(relative, label, state)
    if destination is None:
        return
    try:
        with archive.open(info) as source:
            written = write_capped(source, destination, limits.max_file_bytes)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
        destination.unlink(missing_ok=True)
        state.skipped.append((label, f"cannot be unpacked ({exc})"))
        return
    if written is None:
        state.skipped.append((label, f"larger than {limits.max_file_bytes // 2**20} MiB "
                                     "once unpacked"))
        return
    if state.total_bytes + written > limits.max_total_bytes:
        destination.unlink()
        state.skipped.append((label, f"the upload exceeds {limits.max_total_bytes // 2**20} MiB"))
        return
    state.files.append(relative)
    state.total_bytes += written
