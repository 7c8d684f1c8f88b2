"""gradebook.csv: one row per student, a column per assignment, a total (what an LMS imports).

With a roster (grader.core.roster), its ``name``, ``email`` and ``lms_id`` columns come along and a
``roster`` column says what the roster knows: empty for a student on it with a folder,
``missing`` for a roster student with no folder (0 for every assignment), ``unknown`` for a
folder that is not on the roster. Students are matched case-insensitively (GitHub names are).
Rows: the roster's order, then the unknown folders by name.

When the submissions came from an LMS download (grader.run.layouts), each student's id there
(``lms_id``) and name come along too: they fill a roster entry's empty ``lms_id``, and without
a roster the columns ``name``, ``email``, ``lms_id`` are there all the same; and a
``source_id`` column holds the id the download gave (Canvas user id, Moodle participant id,
Gradescope SID, login), so both ids are in the gradebook whatever the roster holds.

A submission the grader failed on has no score: its cell is empty (never a 0), and the total
leaves it out. Scores are the grade of record (late penalty and overrides applied); when a run
has any late penalty or override, a last ``notes`` column says, per assignment, why
(``forward: handed in 1 day 3 h after the due date: -10%; ...``).

Every CSV the grader writes goes through :func:`csv_document`: each cell through
``csv_cell`` (no control character or line break, never a spreadsheet formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from grader.core.results import StudentInfo, SubmissionResult
from grader.core.roster import RosterEntry
from grader.core.text import csv_cell
from grader.report.late import record_lines
from grader.report.view import points

ROSTER_COLUMNS = ("name", "email", "lms_id")
MISSING = "missing"
UNKNOWN = "unknown"


def csv_document(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file's text, every cell made safe for a spreadsheet (grader.core.text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(cell) for cell in header])
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class GradebookRow:
    student: str
    entry: RosterEntry | None
    scores: dict[str, float | None]  # assignment -> score; None: the grader failed on it
    roster: str  # "", MISSING or UNKNOWN
    notes: tuple[str, ...] = ()  # "assignment: why its score is not the autograde"
    source_id: str = ""  # the student's id in the LMS download the submissions came from

    @property
    def total(self) -> float:
        return round(sum(s for s in self.scores.values() if s is not None), 6)


def gradebook_rows(results: Iterable[SubmissionResult], assignments: Sequence[str],
                   roster: Sequence[RosterEntry] = (),
                   identities: Sequence[StudentInfo] = ()) -> list[GradebookRow]:
    """One row per student of the results and of the roster; ``identities``: who each student
    is in the LMS the submissions came from."""
    known = {i.student.lower(): i for i in identities}
    roster = [_with_lms_id(entry, known.get(entry.student.lower())) for entry in roster]
    scores: dict[str, dict[str, float | None]] = {}
    names: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for r in results:
        key = r.student.lower()
        names.setdefault(key, r.student)
        scores.setdefault(key, {})[r.assignment] = None if r.grader_error else r.score
        if _noteworthy(r):
            notes.setdefault(key, []).append(
                f"{r.assignment}: {'; '.join(record_lines(r.grade, not r.missing))}")
    rows = []
    on_roster = set()
    for entry in roster:
        key = entry.student.lower()
        on_roster.add(key)
        have = scores.get(key)
        rows.append(GradebookRow(
            student=names.get(key, entry.student), entry=entry,
            scores={a: (have.get(a, 0.0) if have else 0.0) for a in assignments},
            roster="" if have else MISSING, notes=tuple(notes.get(key, ())),
            source_id=known[key].lms_id if key in known else ""))
    for key in sorted(set(scores) - on_roster):
        person = known.get(key)
        entry = RosterEntry(student=names[key], name=person.name, email=person.email,
                            lms_id=person.lms_id) if person else None
        rows.append(GradebookRow(student=names[key], entry=entry,
                                 scores={a: scores[key].get(a, 0.0) for a in assignments},
                                 roster=UNKNOWN if roster else "",
                                 notes=tuple(notes.get(key, ())),
                                 source_id=person.lms_id if person else ""))
    return rows


def _noteworthy(r: SubmissionResult) -> bool:
    """The score of record is not the plain autograde: a penalty, a cutoff or an override."""
    record = r.grade
    return record is not None and bool(record.late_penalty or record.not_accepted
                                       or record.override or record.test_overrides)


def _with_lms_id(entry: RosterEntry, person: StudentInfo | None) -> RosterEntry:
    if person is None or entry.lms_id or not person.lms_id:
        return entry
    return replace(entry, lms_id=person.lms_id)


def gradebook_csv(rows: Sequence[GradebookRow], assignments: Sequence[str],
                  with_roster: bool, with_ids: bool = False) -> str:
    """The gradebook's text (``with_roster``: the roster's columns and the roster column;
    ``with_ids``: the roster's columns, filled from the LMS the submissions came from;
    ``notes`` when a row has any)."""
    fmt = points
    with_notes = any(row.notes for row in rows)
    header = ["student", *(ROSTER_COLUMNS if with_roster or with_ids else ()),
              *(("source_id",) if with_ids else ()), *assignments,
              "total", *(("roster",) if with_roster else ()),
              *(("notes",) if with_notes else ())]
    body = []
    for row in rows:
        entry = row.entry or RosterEntry(student=row.student)
        extra = [entry.name, entry.email, entry.lms_id] if with_roster or with_ids else []
        extra += [row.source_id] if with_ids else []
        cells = ["" if row.scores[a] is None else fmt(row.scores[a]) for a in assignments]
        body.append([row.student, *extra, *cells, fmt(row.total),
                     *((row.roster,) if with_roster else ()),
                     *((" | ".join(row.notes),) if with_notes else ())])
    return csv_document(header, body)
