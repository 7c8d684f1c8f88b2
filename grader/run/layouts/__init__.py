"""SOURCE as the LMS gives it: a folder or a zip in one of the layouts of
:mod:`grader.run.layouts.readers`, turned into the per-student view discovery grades.

:func:`open_source` is a context manager: a zip is unpacked into a temporary staging folder
(grader.run.layouts.archive: caps on size and entries, no links, nothing outside) that lives
as long as the ``with`` block; a folder is read where it is, nothing copied.
"""

from __future__ import annotations

import contextlib
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from grader.core.errors import ConfigError
from grader.run.layouts.archive import ArchiveLimits, unzip_source
from grader.run.layouts.model import (
    CANVAS,
    DESCRIPTIONS,
    GIT,
    GRADESCOPE,
    LAYOUTS,
    MOODLE,
    PER_STUDENT,
    HandedIn,
    SourceView,
    StudentSource,
)
from grader.run.layouts.readers import detect, entries, read_layout

__all__ = ["CANVAS", "DESCRIPTIONS", "GIT", "GRADESCOPE", "LAYOUTS", "MOODLE", "PER_STUDENT",
           "ArchiveLimits", "HandedIn", "SourceView", "StudentSource", "detect", "open_source",
           "read_layout"]


@contextlib.contextmanager
def open_source(source: Path, layout: str | None = None,
                limits: ArchiveLimits | None = None) -> Iterator[SourceView]:
    """``source`` (a folder or a zip) read as ``layout`` (detected when None)."""
    limits = limits or ArchiveLimits()
    if layout is not None and layout not in LAYOUTS:
        raise ConfigError(f"--layout: unknown layout {layout!r} (one of {', '.join(LAYOUTS)})")
    if not source.exists():
        raise ConfigError(f"{source}: no such submissions folder or zip")
    if source.is_dir():
        yield read_layout(source, layout)
        return
    if not (source.is_file() and zipfile.is_zipfile(source)):
        raise ConfigError(f"{source}: neither a folder nor a zip archive "
                          "(expected a submissions folder or an LMS download .zip)")
    with tempfile.TemporaryDirectory(prefix="grade-source-") as tmp:
        unzipped = unzip_source(source, Path(tmp) / "source", limits)
        root = _unwrapped(unzipped.folder, layout)
        view = read_layout(root, layout)
        skipped = tuple((unzipped.folder / name, why) for name, why in unzipped.skipped)
        yield replace(view, stray=view.stray + skipped, label=source.name,
                      staging=unzipped.folder)


def _unwrapped(root: Path, layout: str | None) -> Path:
    """The folder of the zip that holds the submissions: a zip whose only entry is a folder
    (``assignment_123_export/``, ``submissions/``) holding folders is read from inside it."""
    while True:
        listed = entries(root)
        if len(listed) != 1 or not stat.S_ISDIR(listed[0][1]):
            return root
        inner = listed[0][0]
        if layout is None and detect(root) != PER_STUDENT:
            return root
        if not any(stat.S_ISDIR(mode) for _, mode in entries(inner)) \
                and (layout or detect(inner)) == PER_STUDENT:
            return root  # one student's folder, zipped
        root = inner
