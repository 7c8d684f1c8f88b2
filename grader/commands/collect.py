"""``grade collect RECORDS... --out gradebook.csv``: the grading runner's scores of record.

RECORDS are the runner's artifacts as downloaded by ``templates/github/fetch-records.sh`` (zips),
or folders holding a ``record.json`` (:mod:`grader.integrations.collect`). For every (student,
assignment)
the latest record that graded it counts: the one whose commit the runner found at the head of
the student's default branch last (``requested_at``), so a late regrade of an older commit
never replaces a newer one. A record whose grading failed never counts (the grader's failure is
not the student's 0); when it is the newest, the output says so.

The gradebook: one row per student (roster order first, then the others), the roster's
``name``, ``email``, ``lms_id`` when ``--roster`` is given, a column per assignment id (course
order), ``total``, and ``graded_at`` (the newest grading counted). Roster students without a
record get 0. Students are matched case-insensitively (GitHub names are).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.core.course import Course
from grader.core.errors import BadRecord, ConfigError
from grader.core.paths import write_atomic
from grader.core.roster import RosterEntry, read_roster
from grader.integrations.collect import Record, candidates, load_record
from grader.report.gradebook import csv_document
from grader.report.view import points

ROSTER_COLUMNS = ("name", "email", "lms_id")


@dataclass(frozen=True)
class CollectRequest:
    records: tuple[Path, ...]
    out: Path
    roster: Path | None = None


@dataclass(frozen=True)
class Collected:
    out: Path
    students: int
    records: int
    skipped: int


def collect(request: CollectRequest, course: Course,
            echo: Callable[[str], None] = print) -> Collected:
    """Read every record, keep the latest per (student, assignment), write the gradebook."""
    roster = read_roster(request.roster) if request.roster else ()
    records, skipped = _load(request.records, echo)
    latest = _latest(records, echo)
    order = [a.id for a in course.assignments]
    seen = {assignment for per in latest.values() for assignment in per}
    assignments = order + sorted(seen - set(order))
    rows = _rows(latest, roster, assignments, echo)
    header = ["student", *(ROSTER_COLUMNS if request.roster else ()), *assignments, "total",
              "graded_at"]
    request.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(request.out, csv_document(header, rows))
    echo(f"Collected {len(records)} records ({skipped} skipped) into {request.out}: "
         f"{len(rows)} students")
    return Collected(out=request.out, students=len(rows), records=len(records), skipped=skipped)


def _load(paths: Sequence[Path], echo: Callable[[str], None]) -> tuple[list[Record], int]:
    records: list[Record] = []
    skipped = 0
    try:
        found = list(candidates(list(paths)))
    except BadRecord as exc:
        raise ConfigError(str(exc)) from exc
    for path in found:
        try:
            records.append(load_record(path))
        except BadRecord as exc:
            skipped += 1
            echo(f"skipped: {exc}")
    return records, skipped


def _latest(records: Sequence[Record], echo: Callable[[str], None]
            ) -> dict[str, dict[str, Record]]:
    """student key -> assignment -> the record that counts for it."""
    chosen: dict[str, dict[str, Record]] = {}
    newest: dict[str, Record] = {}
    for record in sorted(records, key=lambda r: r.order):
        key = record.student.lower()
        newest[key] = record
        if record.graded:
            for score in record.scores:
                chosen.setdefault(key, {})[score.assignment] = record
    for _, record in sorted(newest.items()):
        if not record.graded:
            echo(f"note: {record.student}: the newest grading ({record.sha[:12]}, run "
                 f"{record.run_id}) did not finish ({record.outcome}); earlier scores, if any, "
                 "count")
    return chosen


def _rows(latest: dict[str, dict[str, Record]], roster: Sequence[RosterEntry],
          assignments: Sequence[str], echo: Callable[[str], None]) -> list[list[str]]:
    people = {entry.student.lower(): entry for entry in roster}
    keys = [e.student.lower() for e in roster]
    others = sorted(set(latest) - set(keys))
    if roster:
        for key in others:
            echo(f"note: {_any_record(latest[key]).student}: graded but not in the roster")
    rows = []
    for key in keys + others:
        per = latest.get(key, {})
        entry = people.get(key)
        name = entry.student if entry else _any_record(per).student
        values = []
        for assignment in assignments:
            record = per.get(assignment)
            values.append(next((s.score for s in record.scores if s.assignment == assignment),
                               0.0) if record else 0.0)
        graded = max((r.graded_at for r in per.values()), default="")
        extra = [entry.name, entry.email, entry.lms_id] if entry else ["", "", ""]
        rows.append([name, *(extra if roster else []),
                     *(points(v) for v in values), points(sum(values)), graded])
    return rows


def _any_record(per: dict[str, Record]) -> Record:
    return next(iter(per.values()))
