"""``grade feedback OUT --format moodle|canvas|folder``: the feedback, packed for the LMS.

OUT is a ``grade`` output folder: its ``grades.csv`` names every (student, assignment), whose
pages are ``OUT/<student>/<assignment>/feedback.html`` and ``feedback.md`` (already escaped,
in the feedback engine's words, with the course's visibility applied when they were written).
Nothing is re-rendered: the pages are copied as they are.

The roster (``--roster``) may be the course contract's CSV or a Canvas or Moodle export as
it comes (grader.core.roster.read_roster_file).

- ``moodle``: ``feedback-moodle.zip`` for the assignment's "Upload multiple feedback files in
  a zip": one folder per participant, named as Moodle's own download names it,
  ``<Full Name>_<participant id>_assignsubmission_file_``, holding
  ``<assignment>-feedback.html``. Moodle's importer (mod/assign/feedback/file/importziplib.php,
  ``is_valid_filename_for_import``) splits each path part at ``_`` into at most five pieces,
  needs at least four, takes the second as the participant id (numeric: the assignment's
  participant number, as in the download's folder names, not the user's ID number), the third
  and fourth as the plugin (``assignsubmission``, ``file``), and the rest of the path as the
  file's name; the full name is not read. So a name loses its ``_``, and a student without a
  numeric participant id is left out and listed (Moodle would skip the file silently). The id
  is the roster's ``lms_id``, else the one the grading found (OUT/gradebook.csv's ``lms_id``:
  a class graded from Moodle's download keeps each folder's participant id).
- ``canvas``: ``feedback-canvas.zip``, one file per submission, ``<name>_<lms_id>_
  <assignment>-feedback.html`` (Canvas's per-submission file names start with the student's
  name and user id; attach each to its submission's comments, or upload with a script).
  Canvas has no import of feedback files in bulk: this zip is for a person or a script.
- ``folder``: ``feedback/<student>/<assignment>.html`` and ``.md``, for any other way.

A name from the roster is escaped as the reports escape text (grader.core.text.visible), then
loses path separators, reserved characters and ``_``; ids and assignment ids pass through the
reports' file-name escaping (grader.core.paths.safe_component). A student with no page (the
grader failed before writing one) is listed, never stops the others.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.core.errors import ConfigError
from grader.core.paths import inside, safe_component
from grader.core.roster import RosterEntry, read_roster_file
from grader.core.text import visible

FORMATS = ("moodle", "canvas", "folder")


@dataclass(frozen=True)
class FeedbackRequest:
    out_dir: Path
    format: str
    roster: Path | None = None
    to: Path | None = None


@dataclass(frozen=True)
class Packed:
    path: Path
    files: int
    left_out: tuple[str, ...] = ()


def _pairs(out_dir: Path) -> list[tuple[str, str]]:
    """(student, assignment) of every row of ``OUT/grades.csv``."""
    grades = out_dir / "grades.csv"
    try:
        with open(grades, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ConfigError(f"{grades}: cannot be read ({exc.strerror}); is {out_dir} the "
                          "output of `grade`?") from None
    if rows and not {"student", "assignment"} <= set(rows[0]):
        raise ConfigError(f"{grades}: no student and assignment columns")
    # csv_cell may have put a ' before a name that looks like a formula
    return [(_uncell(r["student"]), r["assignment"]) for r in rows]


def _uncell(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") else value


def _roster(request: FeedbackRequest) -> dict[str, RosterEntry]:
    """The roster's entries by student; a name or lms_id the roster lacks comes from the
    grading's own gradebook.csv (what the LMS download named each student)."""
    found = _graded_ids(request.out_dir)
    if request.roster is None:
        return found
    entries = {e.student: e for e in read_roster_file(request.roster).entries}
    for student, entry in entries.items():
        graded = found.get(student)
        if graded is not None:
            entry = replace(entry, name=entry.name or graded.name,
                            lms_id=entry.lms_id or graded.lms_id)
        found[student] = entry
    return found


def _graded_ids(out_dir: Path) -> dict[str, RosterEntry]:
    """student -> name and lms_id from OUT/gradebook.csv (none when it has no lms_id)."""
    try:
        with open(out_dir / "gradebook.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return {_uncell(r["student"]): RosterEntry(student=_uncell(r["student"]),
                                               name=_uncell(r.get("name") or ""),
                                               lms_id=r["lms_id"] or "")
            for r in rows if r.get("student") and r.get("lms_id")}


#: Characters a name in an LMS file name never keeps: path separators, Windows' reserved
#: ones, controls, and ``_`` (Moodle splits the folder name at ``_``: name, participant id).
_NOT_IN_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|_]')


def _name(entry: RosterEntry | None, student: str) -> str:
    """The student's full name (else id) for an LMS file name: one line, no separators."""
    name = " ".join(_NOT_IN_NAME.sub(" ", visible((entry.name if entry else "") or student))
                    .split()).strip(". ")
    return name or "student"


def pack_feedback(request: FeedbackRequest, echo: Callable[[str], None] = print) -> Packed:
    """Pack every page of ``request.out_dir`` in ``request.format``; see the module docstring."""
    if request.format not in FORMATS:
        raise ConfigError(f"--format: {request.format!r} is not one of {', '.join(FORMATS)}")
    roster = _roster(request)
    pages: list[tuple[str, str, Path]] = []
    left_out: list[str] = []
    for student, assignment in _pairs(request.out_dir):
        folder = inside(request.out_dir, student, assignment)
        if (folder / "feedback.html").is_file():
            pages.append((student, assignment, folder))
        else:
            left_out.append(f"{student} ({assignment}): no feedback page")
    if request.format == "folder":
        packed = _folder(pages, request.to or request.out_dir / "feedback")
    else:
        packed = _zip(pages, roster, request, left_out)
    for line in packed.left_out:
        echo(f"left out: {line}")
    echo(f"Wrote {packed.files} feedback files to {packed.path}")
    return packed


def _folder(pages: Sequence[tuple[str, str, Path]], target: Path) -> Packed:
    files = 0
    for student, assignment, folder in pages:
        into = inside(target, student)
        into.mkdir(parents=True, exist_ok=True)
        for suffix in ("html", "md"):
            source = folder / f"feedback.{suffix}"
            if source.is_file():
                shutil.copyfile(source, into / f"{safe_component(assignment)}.{suffix}")
                files += 1
    return Packed(target, files)


def _zip(pages: Sequence[tuple[str, str, Path]], roster: dict[str, RosterEntry],
         request: FeedbackRequest, left_out: list[str]) -> Packed:
    target = request.to or request.out_dir / f"feedback-{request.format}.zip"
    files = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for student, assignment, folder in pages:
            entry = roster.get(student)
            lms_id = safe_component(entry.lms_id) if entry and entry.lms_id else ""
            if not lms_id:
                left_out.append(f"{student}: no lms_id in the roster (--roster)")
                continue
            if request.format == "moodle" and not lms_id.isdigit():
                left_out.append(f"{student}: lms_id {visible(lms_id)!r} is not a Moodle "
                                "participant id (a number, as in the download's folder names)")
                continue
            page = f"{safe_component(assignment)}-feedback.html"
            if request.format == "moodle":
                name = f"{_name(entry, student)}_{lms_id}_assignsubmission_file_/{page}"
            else:
                name = f"{_name(entry, student)}_{lms_id}_{page}"
            archive.write(folder / "feedback.html", name)
            files += 1
    return Packed(target, files, tuple(dict.fromkeys(left_out)))
