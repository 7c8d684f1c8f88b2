"""Where report files go, and how they are written.

Student ids are folder names handed in by students (or by a course platform's export), so they
are never trusted as path components: ``safe_component`` turns any string into one name that
cannot climb out of the output folder, and ``inside`` checks the final path anyway.
Every file is written atomically (a temporary file beside it, then ``os.replace``), so an
interrupted run never leaves a half-written results.json behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from grader.errors import GraderError

# Path separators of every platform, NUL and other control characters, Windows-reserved marks.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_component(name: str) -> str:
    """``name`` as a single, harmless path component; distinct names stay distinct.

    Unchanged when already safe. Otherwise unsafe characters become ``_``, names made only of
    dots get their dots replaced, and a short hash of the original is appended so that
    ``a/b`` and ``a_b`` do not share a folder.
    """
    cleaned = _UNSAFE.sub("_", name).strip()
    if cleaned.strip(".") == "":
        cleaned = cleaned.replace(".", "_") or "_"
    if cleaned == name:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}~{digest}"


def inside(root: Path, *parts: str) -> Path:
    """``root / safe parts``; raises GraderError if it would still resolve outside ``root``."""
    path = root.joinpath(*(safe_component(part) for part in parts))
    if not path.resolve().is_relative_to(root.resolve()):
        raise GraderError(f"{path}: report path resolves outside the output folder {root}")
    return path


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
