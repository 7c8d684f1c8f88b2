"""The gradebook in an LMS's own import format (``--gradebook-format``), written beside the
plain gradebook.csv so it imports as it is:

- canvas (``gradebook-canvas.csv``): Canvas's export format (instructure/canvas-lms,
  lib/gradebook_exporter.rb), which its import reads: ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, one column per assignment titled ``Name (assignment id)``,
  and the second row ``    Points Possible``. A row is matched by Canvas on its ID (or SIS
  User ID, or name); an assignment column without a Canvas id creates a new assignment. The
  ids come from the roster: a Canvas gradebook export as ``--roster`` gives both the students'
  IDs and the assignments' ``Name (id)`` columns. No total column (Canvas would make it an
  assignment).
- moodle (``gradebook-moodle.csv``): ``Full name``, ``Username``, ``ID number``, ``Email
  address`` (e-mail kept exactly as the roster has it: Moodle matches it case-sensitively,
  MDL-29315), then a column per assignment; the instructor maps one identity column and each
  grade column on Moodle's import page. No feedback columns (importing a feedback column
  without its grade would wipe grades).
- blackboard (``gradebook-blackboard.txt``): tab-delimited, every field quoted, a header row:
  ``Username`` then a column per assignment, titled with Blackboard's Column ID
  (``Name [Total Pts: 100 Score] |<id>``) when a Grade Center download given as ``--roster``
  has it; a column without an ID becomes a new text column worth 0 points, so the run says so.

Every cell goes through ``csv_cell`` like every CSV the grader writes; a score the grader
failed on is left empty (the LMS keeps what it has).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.core.text import csv_cell
from grader.report.gradebook import GradebookRow, csv_document
from grader.report.view import points

FORMATS = ("plain", "canvas", "moodle", "blackboard")
FILE_NAMES = {"canvas": "gradebook-canvas.csv", "moodle": "gradebook-moodle.csv",
              "blackboard": "gradebook-blackboard.txt"}
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"
MOODLE_COLUMNS = ("Full name", "Username", "ID number", "Email address")
_CANVAS_ASSIGNMENT = re.compile(r"^(?P<name>.*) \((?P<id>\d+)\)$")
_BLACKBOARD_ASSIGNMENT = re.compile(r"^(?P<name>.*?)(?: \[[^\]]*\])? ?\|(?P<id>\d+)$")


@dataclass(frozen=True)
class LmsGradebook:
    """One LMS-format gradebook: its file name, its text, and what the instructor should know
    before importing it (one line each)."""

    file_name: str
    text: str
    notes: tuple[str, ...] = ()


def _lms_column(assignment: str, title: str, columns: Sequence[str],
                pattern: re.Pattern[str]) -> str | None:
    """The LMS's own column for ``assignment`` among the roster's header: the one whose name is
    the title or contains the assignment id (only when exactly one does)."""
    hits = []
    for column in columns:
        found = pattern.match(column)
        if found is None:
            continue
        name = found["name"].strip().casefold()
        if name == title.casefold() or assignment.casefold() in name:
            hits.append(column)
    return hits[0] if len(hits) == 1 else None


def _score(row: GradebookRow, assignment: str) -> str:
    value = row.scores[assignment]
    return "" if value is None else points(value)


def lms_gradebook(fmt: str, rows: Sequence[GradebookRow], assignments: Sequence[str],
                  titles: Mapping[str, str], columns: Sequence[str] = (),
                  max_scores: Mapping[str, float] | None = None) -> LmsGradebook:
    """The gradebook of ``rows`` in ``fmt`` (canvas, moodle or blackboard)."""
    max_scores = max_scores or {}
    writers = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard}
    if fmt not in writers:
        raise ValueError(f"unknown gradebook format {fmt!r}")
    return writers[fmt](rows, assignments, titles, columns, max_scores)


def _canvas(rows: Sequence[GradebookRow], assignments: Sequence[str],
            titles: Mapping[str, str], columns: Sequence[str],
            max_scores: Mapping[str, float]) -> LmsGradebook:
    notes = []
    header = list(CANVAS_COLUMNS)
    for a in assignments:
        title = titles.get(a) or a
        column = _lms_column(a, title, columns, _CANVAS_ASSIGNMENT)
        if column is None:
            notes.append(f"canvas: no Canvas column for {a}: importing creates a new "
                         f"assignment '{title}' (give the Canvas gradebook export as --roster "
                         "to fill the existing one)")
        header.append(column or title)
    possible = [CANVAS_POINTS_POSSIBLE, "", "", "", "",
                *(points(max_scores.get(a, 100.0)) for a in assignments)]
    body = []
    for row in rows:
        entry = row.entry
        body.append([entry.name if entry and entry.name else row.student,
                     entry.lms_id if entry else "", entry.sis_id if entry else "",
                     entry.username if entry else "", entry.section if entry else "",
                     *(_score(row, a) for a in assignments)])
    unmatched = sum(1 for line in body if not line[1] and not line[2])
    if unmatched:
        notes.append(f"canvas: {unmatched} rows have no Canvas ID or SIS User ID (Canvas "
                     "matches them by name only)")
    text = csv_document(header, [possible, *body])
    # csv_cell keeps the four spaces; Canvas writes the row exactly so
    return LmsGradebook(FILE_NAMES["canvas"], text, tuple(notes))


def _moodle(rows: Sequence[GradebookRow], assignments: Sequence[str],
            titles: Mapping[str, str], columns: Sequence[str],
            max_scores: Mapping[str, float]) -> LmsGradebook:
    header = [*MOODLE_COLUMNS, *(titles.get(a) or a for a in assignments)]
    body = []
    for row in rows:
        entry = row.entry
        body.append([entry.name if entry and entry.name else row.student,
                     entry.username if entry else "", entry.sis_id if entry else "",
                     entry.email if entry else "", *(_score(row, a) for a in assignments)])
    notes = []
    unmatched = sum(1 for line in body if not any(line[1:4]))
    if unmatched:
        notes.append(f"moodle: {unmatched} rows have no username, ID number or e-mail "
                     "(Moodle cannot match them; give the participants export as --roster)")
    return LmsGradebook(FILE_NAMES["moodle"], csv_document(header, body), tuple(notes))


def _blackboard(rows: Sequence[GradebookRow], assignments: Sequence[str],
                titles: Mapping[str, str], columns: Sequence[str],
                max_scores: Mapping[str, float]) -> LmsGradebook:
    notes = []
    header = ["Username"]
    for a in assignments:
        title = titles.get(a) or a
        column = _lms_column(a, title, columns, _BLACKBOARD_ASSIGNMENT)
        if column is None:
            notes.append(f"blackboard: no Column ID for {a}: Blackboard makes '{title}' a new "
                         "text column worth 0 points (give the Grade Center download as "
                         "--roster to fill the existing column)")
        header.append(column or title)
    body = [[row.entry.username if row.entry and row.entry.username else row.student,
             *(_score(row, a) for a in assignments)] for row in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerows([[csv_cell(cell) for cell in line] for line in [header, *body]])
    return LmsGradebook(FILE_NAMES["blackboard"], buffer.getvalue(), tuple(notes))
