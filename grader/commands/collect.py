"""``grade collect RECORDS... --out gradebook.csv``: the grading runner's scores of record.

RECORDS are the runner's artifacts as downloaded by
``grader/templates/github/fetch-records.sh`` (zips), or folders holding a ``record.json``
(:mod:`grader.integrations.collect`). For every (student, assignment) the latest record that
graded it counts: the one whose commit the runner found at the head of
the student's default branch last (``requested_at``), so a late regrade of an older commit
never replaces a newer one. A record whose grading failed never counts (the grader's failure is
not the student's 0); when it is the newest, the output says so.

The gradebook: one row per student (roster order first, then the others), the roster's
``name``, ``email``, ``lms_id`` when ``--roster`` is given, a column per assignment id (course
order), ``total``, and ``graded_at`` (the newest grading counted). Roster students without a
record get 0. Students are matched case-insensitively (GitHub names are). ``--review OUT``
adds the written questions' points graded in ``grade review OUT`` (and a ``pending`` column
naming the questions not graded yet: they count as nothing, not as 0).

With deadlines (a ``due`` in assignment.toml, a ``[late]`` table in course.toml, extensions or
overrides), the policy decides (:func:`of_record`): each record's submission time is its
``requested_at`` (when the runner found the commit at the head of the student's branch, on the
runner's clock); per (student, assignment) the record that counts is, with ``counts = "last"``
(the default), the latest one not past the cutoff, with ``counts = "best"`` the one with the
best score after its late penalty; then the late policy runs across the student's assignments
(grace days in due-date order) on the autograde (``extra_data.raw_score``), overrides are
applied, and a ``notes`` column says why a score is not the autograde.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.core.course import Course
from grader.core.deadlines import GradeRecord, Handed, grade_one, grade_student
from grader.core.errors import BadRecord, ConfigError
from grader.core.grade_record import Deadlines, load_deadlines
from grader.core.paths import write_atomic
from grader.core.roster import RosterEntry, read_roster
from grader.integrations.collect import Record, candidates, load_record
from grader.report.gradebook import csv_document
from grader.report.late import record_lines
from grader.report.view import points
from grader.review.merge import manual_points

ROSTER_COLUMNS = ("name", "email", "lms_id")


@dataclass(frozen=True)
class CollectRequest:
    records: tuple[Path, ...]
    out: Path
    roster: Path | None = None
    extensions: Path | None = None  # default: the course's extensions.csv
    overrides: Path | None = None  # default: the course's overrides.csv
    review: Path | None = None  # a graded folder whose written answers' points are added
    db: str | None = None  # its review database when not OUT/review.db


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
    deadlines = load_deadlines(course, extensions=request.extensions,
                               overrides=request.overrides)
    records, skipped = _load(request.records, echo)
    latest = _latest(records, echo)
    grades: dict[tuple[str, str], GradeRecord] = {}
    if deadlines.active:
        latest, grades = of_record(records, deadlines, echo)
    order = [a.id for a in course.assignments]
    seen = {assignment for per in latest.values() for assignment in per}
    assignments = order + sorted(seen - set(order))
    manual = manual_points(request.review, request.db) if request.review else {}
    rows = _rows(latest, roster, assignments, echo, grades, manual)
    with_notes = any(row[-1] for row in rows)
    if not with_notes:
        rows = [row[:-1] for row in rows]
    header = ["student", *(ROSTER_COLUMNS if request.roster else ()), *assignments, "total",
              "graded_at", *(("pending",) if manual else ()),
              *(("notes",) if with_notes else ())]
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


def of_record(records: Sequence[Record], deadlines: Deadlines, echo: Callable[[str], None]
              ) -> tuple[dict[str, dict[str, Record]], dict[tuple[str, str], GradeRecord]]:
    """The record that counts per (student, assignment) as the late policy says, and the grade
    of record of each (see the module docstring)."""
    candidates: dict[str, dict[str, list[Record]]] = {}
    for record in records:
        if record.graded:
            for score in record.scores:
                candidates.setdefault(record.student.lower(), {}).setdefault(
                    score.assignment, []).append(record)
    overrides = {(o.student.lower(), o.assignment): o for o in deadlines.overrides
                 if not o.test}
    for o in deadlines.overrides:
        if o.test:
            echo(f"note: {o.source}: a test's override applies when grading (grade, grade ci), "
                 "not here; not applied")
    chosen: dict[str, dict[str, Record]] = {}
    grades: dict[tuple[str, str], GradeRecord] = {}
    for key, per in candidates.items():
        handed = []
        for assignment, found in per.items():
            pick = _pick(found, key, assignment, deadlines)
            chosen.setdefault(key, {})[assignment] = pick
            handed.append(replace(_handed(pick, key, assignment, deadlines),
                                  override=overrides.get((key, assignment))))
        for assignment, grade in grade_student(deadlines.policy, handed).items():
            grades[(key, assignment)] = grade
    return chosen, grades


def _handed(record: Record, key: str, assignment: str, deadlines: Deadlines) -> Handed:
    score = next(s for s in record.scores if s.assignment == assignment)
    return Handed(assignment=assignment, raw_score=score.raw,
                  due=deadlines.dues.get(assignment),
                  submitted_at=dt.datetime.fromisoformat(record.requested_at),
                  extension=deadlines.extensions.get((key, assignment)))


def _pick(found: Sequence[Record], key: str, assignment: str, deadlines: Deadlines) -> Record:
    """``counts = "last"``: the latest record not past the cutoff (else the latest);
    ``"best"``: the best score after its own late penalty (the later one on a tie)."""
    policy = deadlines.policy

    def alone(record: Record) -> GradeRecord:
        return grade_one(policy, _handed(record, key, assignment, deadlines),
                         policy.grace_days)[0]

    if policy.counts == "best":
        return max(found, key=lambda r: (alone(r).final_score, r.order))
    accepted = [r for r in found if not alone(r).not_accepted]
    return max(accepted or found, key=lambda r: r.order)


def _rows(latest: dict[str, dict[str, Record]], roster: Sequence[RosterEntry],
          assignments: Sequence[str], echo: Callable[[str], None],
          grades: dict[tuple[str, str], GradeRecord] | None = None,
          manual: Mapping[tuple[str, str], tuple[float, tuple[str, ...]]] | None = None
          ) -> list[list[str]]:
    """One row per student; its last cell holds the notes (the caller drops that cell when no
    row has any). ``manual``: written answers' points and pending questions (grade review)."""
    grades = grades or {}
    manual = manual or {}
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
        notes = []
        for assignment in assignments:
            record = per.get(assignment)
            grade = grades.get((key, assignment))
            if grade is not None:
                values.append(grade.final_score + manual.get((key, assignment), (0.0, ()))[0])
                if grade.final_score != grade.raw_score or grade.override is not None:
                    notes.append(f"{assignment}: {'; '.join(record_lines(grade))}")
                continue
            values.append(next((s.score for s in record.scores if s.assignment == assignment),
                               0.0) if record else 0.0)
            values[-1] += manual.get((key, assignment), (0.0, ()))[0]
        graded = max((r.graded_at for r in per.values()), default="")
        extra = [entry.name, entry.email, entry.lms_id] if entry else ["", "", ""]
        pending = [f"{a}:{q}" for a in assignments for q in manual.get((key, a), (0.0, ()))[1]]
        rows.append([name, *(extra if roster else []),
                     *(points(v) for v in values), points(sum(values)), graded,
                     *([" ".join(pending)] if manual else []), " | ".join(notes)])
    return rows


def _any_record(per: dict[str, Record]) -> Record:
    return next(iter(per.values()))
