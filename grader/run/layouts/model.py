"""What a layout reader gives: each student of a source, with the files or folders they handed
in and what the LMS said about them (plain data, no paths followed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Layout names, as ``--layout`` takes them.
PER_STUDENT = "per-student"
CANVAS = "canvas"
MOODLE = "moodle"
GRADESCOPE = "gradescope"
GIT = "git"
LAYOUTS = (PER_STUDENT, CANVAS, MOODLE, GRADESCOPE, GIT)

DESCRIPTIONS = {
    PER_STUDENT: "one folder per student",
    CANVAS: "Canvas \"Download submissions\" (flat files <name>_<user id>_<id>_<file>)",
    MOODLE: "Moodle \"Download all submissions\" (<Full Name>_<id>_assignsubmission_file_)",
    GRADESCOPE: "Gradescope export (submission_metadata.yml, submission_<id>/)",
    GIT: "a folder of git checkouts (one repository per student)",
}


@dataclass(frozen=True)
class HandedIn:
    """One file a student handed in, found in a flat layout (Canvas, Moodle without folders).

    ``name`` is the file's original name (the LMS's prefix removed): the name matched against
    assignment ids and shown in feedback."""

    path: Path
    name: str
    late: bool | None = None
    submitted_at: str | None = None


@dataclass(frozen=True)
class StudentSource:
    """One student of a source: the layout's id for them and what they handed in.

    ``student``: the id the layout gives (Canvas user id, Moodle participant id, Gradescope
    SID, the login in a repository's name, the folder's name). ``folders`` are walked as a
    per-student folder is; ``files`` are single files of a flat layout. ``late`` and
    ``submitted_at`` (ISO 8601 text as the LMS wrote it) are what the layout says about the
    whole submission, None when it says nothing."""

    student: str
    name: str = ""
    email: str = ""
    folders: tuple[Path, ...] = ()
    files: tuple[HandedIn, ...] = ()
    late: bool | None = None
    submitted_at: str | None = None


@dataclass(frozen=True)
class SourceView:
    """A source read as a layout: its students, and the entries that belong to no student."""

    layout: str
    root: Path
    students: tuple[StudentSource, ...]
    stray: tuple[tuple[Path, str], ...] = ()
    #: where the files really are when the source was a zip (shown instead of the staging path)
    label: str = ""
    #: the staging folder a zip was unpacked into (None for a folder)
    staging: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.layout, self.layout)
