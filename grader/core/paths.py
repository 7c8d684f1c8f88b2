"""Where report files go, and how they are written.

Student ids are folder names handed in by students (or by a course platform's export), so they
are never trusted as path components: ``safe_component`` turns any string into one name that
cannot climb out of the output folder, and ``inside`` checks the final path anyway. A student
folder can never take the name of a report file either: a name that looks like one (ending in
a report's extension: ``grades.csv``, ``summary.html``), a hidden name (``.cache``) or a name
Windows reserves (``CON``) is mapped like an unsafe one, so report files written now or by a
later version next to the student folders (``OUT/<name>.csv|.md|.html|.json|...``) never
collide with them, whatever the case-sensitivity of the file system.
Every file is written atomically (a temporary file beside it, then ``os.replace``), so an
interrupted run never leaves a half-written results.json behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

import grader
from grader.core.errors import GraderError

#: The templates the grader ships inside its package (reports, bundle, Gradescope, Classroom 50,
#: GitHub workflows, `grade new`, `grade init`): an installed wheel carries them.
TEMPLATES_DIR = Path(grader.__file__).resolve().parent / "templates"
#: Written into every output folder (``grade --out``): a folder holding it, or a grader's
#: grades.csv and summary.html, is never graded as a student (``grade DIR --out DIR/out``).
OUTPUT_MARKER = ".nn-grader-output"
_OUTPUT_FILES = (OUTPUT_MARKER, "grades.csv", "summary.html")


def mark_output(folder: Path) -> None:
    """Create ``folder`` (an output folder) with its marker, before anything is graded. A new
    output folder is private (0700): it holds every student's scores and feedback."""
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    marker = folder / OUTPUT_MARKER
    if not marker.is_file():
        marker.write_text("nn-grader output folder: never graded as a student\n",
                          encoding="utf-8")


def holds_output(folder: Path) -> str | None:
    """The file that shows ``folder`` holds a grader's output (None: nothing does)."""
    return next((name for name in _OUTPUT_FILES if (folder / name).is_file()), None)

# Path separators of every platform, NUL and other control characters (C1, bidi and zero-width
# ones too: a folder name must not reorder or hide what a listing shows), Windows-reserved marks.
_UNSAFE = re.compile('[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e'
                     '\u2066-\u2069\ufeff/\\\\:*?"<>|]')
#: Extensions of files a report folder holds at its top level (now or later): a student folder
#: with such a name is mapped, so it cannot take a report file's place.
REPORT_SUFFIXES = (".csv", ".md", ".html", ".htm", ".json", ".txt", ".zip", ".xml", ".tmp",
                   ".log", ".pdf", ".svg", ".png", ".css", ".js")
_WINDOWS_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?")


def reserved(name: str) -> bool:
    """Whether ``name`` may not be used as it is for a student's folder in a report."""
    lowered = name.lower().rstrip(". ")
    return (name.startswith(".") or lowered.endswith(REPORT_SUFFIXES)
            or bool(_WINDOWS_RESERVED.fullmatch(lowered)))


def safe_component(name: str) -> str:
    """``name`` as a single, harmless path component; distinct names stay distinct.

    Unchanged when already safe. Otherwise unsafe characters become ``_``, names made only of
    dots get their dots replaced, and a short hash of the original is appended so that
    ``a/b`` and ``a_b`` do not share a folder; a :func:`reserved` name (``grades.csv``) keeps
    its characters and gets the hash (``grades.csv~1a2b3c4d``).
    """
    cleaned = _UNSAFE.sub("_", name).strip()
    if cleaned.strip(".") == "":
        cleaned = cleaned.replace(".", "_") or "_"
    if cleaned.startswith("."):  # never a hidden folder (``.cache`` is the grader's)
        cleaned = "_" + cleaned[1:]
    if cleaned == name and not reserved(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}~{digest}"


def inside(root: Path, *parts: str) -> Path:
    """``root / safe parts``; raises GraderError if it would still resolve outside ``root``."""
    path = root.joinpath(*(safe_component(part) for part in parts))
    if not path.resolve().is_relative_to(root.resolve()):
        raise GraderError(f"{path}: report path resolves outside the output folder {root}")
    return path


def write_atomic(path: Path, text: str, durable: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and ``os.replace``.

    ``durable``: fsync before the rename (a crash never leaves an empty file). A run's
    per-submission reports pass False: they are rebuilt from ``OUT/.cache`` (written durably)
    by rerunning, and one fsync per file was half the time of rendering a class's reports.

    A regular file that already holds exactly ``text`` is left as it is (a rerun whose results
    did not change rewrites nothing); a link in its place is replaced, never followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        raise GraderError(f"{path}: a folder is in the way of this report file (left by an "
                          "older version?); move it away and run again")
    if _holds(path, text):
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _holds(path: Path, text: str) -> bool:
    """Whether ``path`` is a regular file (not a link) whose bytes are ``text`` in UTF-8."""
    try:
        data = text.encode("utf-8")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, UnicodeEncodeError):
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        chunks = []
        while chunk := os.read(fd, max(1, len(data))):
            chunks.append(chunk)
        return b"".join(chunks) == data
    except OSError:
        return False
    finally:
        os.close(fd)
