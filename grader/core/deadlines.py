"""Deadlines and late work: the grade of record, computed the same way on every path.

Pure data and pure functions, no files (grader.core.deadline_files reads them). For one
student across the course, in the order of the assignments' due dates:

    raw score (the autograde, test overrides included)
      -> the submission's lateness against the student's due date (an extension moves it)
      -> past the cutoff (a late due date where the platform gives one, e.g. Gradescope's
         ``late_due_date``, the student's own with an extension; else ``max_days`` after the
         due date): not accepted, 0 points, no grace day spent
      -> grace days: each forgives one started day late, from a budget per student (at most
         ``grace_days_per_assignment`` on one assignment), spent as far as they go
      -> late penalty: ``penalty_per_day`` percent of the score per started day still late
         (and/or ``penalty_per_hour`` per started hour), at most ``max_penalty`` percent
      -> an override of the assignment's points (with its reason and who set it)
      -> final score

A submission whose time is unknown (no ``--times`` row, no metadata) is never late: the
record says the time is unknown. An assignment without a due date has no lateness.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
#: Which submission counts when several were graded (``grade collect``).
COUNTS = ("last", "best")


@dataclass(frozen=True)
class LatePolicy:
    """course.toml's ``[late]`` table (all optional; the default is no penalty at all)."""

    penalty_per_day: float = 0.0  # percent of the score per started day late
    penalty_per_hour: float = 0.0  # percent of the score per started hour late
    max_penalty: float = 100.0  # the cap, percent
    max_days: float | None = None  # later than this many days: not accepted (0 points)
    grace_days: int = 0  # per student, across the course
    grace_days_per_assignment: int | None = None  # at most this many on one assignment
    counts: str = "last"  # "last": the last submission before the cutoff; "best": the best

    @property
    def has_penalty(self) -> bool:
        return bool(self.penalty_per_day or self.penalty_per_hour or self.max_days is not None)


NO_POLICY = LatePolicy()


@dataclass(frozen=True)
class Extension:
    """A student's own due date for one assignment: a new date, or days added to it."""

    student: str
    assignment: str
    reason: str
    due: dt.datetime | None = None
    extra_days: float = 0.0
    source: str = ""  # "extensions.csv row 3", for messages
    cutoff: dt.datetime | None = None  # the student's own late due date (Gradescope's)

    def applied_to(self, due: dt.datetime | None) -> dt.datetime | None:
        if self.due is not None:
            return self.due
        return None if due is None else due + dt.timedelta(days=self.extra_days)


@dataclass(frozen=True)
class Override:
    """Points set by a person: the assignment's final score, or (``test``) one test's points."""

    student: str
    assignment: str
    points: float
    reason: str
    who: str
    test: str = ""
    source: str = ""  # "overrides.csv row 4", for messages


@dataclass(frozen=True)
class OverrideNote:
    """An override as the reports show it."""

    what: str  # "" for the assignment's score, else the test's id
    points: float
    reason: str
    who: str
    was: float | None = None  # the points before (a test's autograde), None for the score


@dataclass(frozen=True)
class Handed:
    """One (student, assignment) as the policy sees it."""

    assignment: str
    raw_score: float
    due: dt.datetime | None = None  # the assignment's own due date
    cutoff: dt.datetime | None = None  # the assignment's late due date (replaces max_days)
    submitted_at: dt.datetime | None = None
    handed_in: bool = True
    extension: Extension | None = None
    override: Override | None = None  # of the assignment's score (test ones are in raw_score)
    test_overrides: tuple[OverrideNote, ...] = ()


@dataclass(frozen=True)
class GradeRecord:
    """The grade of record of one (student, assignment) and how it came about.

    Times are ISO 8601 strings (``""``: not known) so the record is plain data."""

    raw_score: float
    late_penalty: float  # points taken off (raw - final before an override)
    final_score: float
    penalty_percent: float = 0.0
    capped: bool = False  # the penalty reached max_penalty
    due: str = ""  # the student's due date (with an extension)
    submitted_at: str = ""
    late_s: float = 0.0  # seconds after the due date; 0 when on time or not known
    cutoff_days: float | None = None
    cutoff: str = ""  # the late due date that was the cutoff ("" : max_days, or none)
    not_accepted: bool = False  # past the cutoff
    grace_used: int = 0
    grace_left: int | None = None  # None: the course has no grace days
    #: a one-student path without the course's ledger: grace days spent on other
    #: assignments are not known, so ``grace_left`` assumes none were
    grace_assumed: bool = False
    extension: str = ""  # the extension's reason ("" without one)
    override: OverrideNote | None = None  # of the score
    test_overrides: tuple[OverrideNote, ...] = ()

    @property
    def late(self) -> bool:
        return self.late_s > 0


def started(late: dt.timedelta, unit: dt.timedelta) -> int:
    """Started units in ``late`` (1 s late is one started day; exactly one day is one)."""
    if late <= dt.timedelta(0):
        return 0
    return -(-late // unit)


def penalty_percent(policy: LatePolicy, late: dt.timedelta) -> tuple[float, bool]:
    """(percent of the score taken off for being ``late``, whether the cap applied)."""
    if late <= dt.timedelta(0):
        return 0.0, False
    percent = (policy.penalty_per_day * started(late, DAY)
               + policy.penalty_per_hour * started(late, HOUR))
    if percent >= policy.max_penalty:
        return policy.max_penalty, percent > policy.max_penalty
    return percent, False


def _stamp(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def grade_one(policy: LatePolicy, item: Handed, grace_left: int) -> tuple[GradeRecord, int]:
    """The record of one (student, assignment) and the grace days left after it."""
    raw = round(item.raw_score, 6)
    due = item.extension.applied_to(item.due) if item.extension else item.due
    cutoff = item.extension.cutoff if item.extension and item.extension.cutoff else item.cutoff
    base = GradeRecord(raw_score=raw, late_penalty=0.0, final_score=raw, due=_stamp(due),
                       submitted_at=_stamp(item.submitted_at) if item.handed_in else "",
                       cutoff_days=None if cutoff else policy.max_days, cutoff=_stamp(cutoff),
                       grace_left=grace_left if policy.grace_days else None,
                       extension=item.extension.reason if item.extension else "",
                       test_overrides=item.test_overrides)
    record = base
    if item.handed_in and due is not None and item.submitted_at is not None:
        late = item.submitted_at - due
        record = replace(base, late_s=max(0.0, late.total_seconds()))
        if (item.submitted_at > cutoff if cutoff is not None else
                policy.max_days is not None and late > dt.timedelta(days=policy.max_days)):
            record = replace(record, not_accepted=True, late_penalty=raw, final_score=0.0,
                             penalty_percent=100.0)
        elif late > dt.timedelta(0):
            grace = min(started(late, DAY), grace_left,
                        policy.grace_days_per_assignment if policy.grace_days_per_assignment
                        is not None else grace_left)
            grace_left -= grace
            percent, capped = penalty_percent(policy, late - grace * DAY)
            penalty = round(raw * percent / 100, 6)
            record = replace(record, grace_used=grace,
                             grace_left=grace_left if policy.grace_days else None,
                             penalty_percent=percent, capped=capped, late_penalty=penalty,
                             final_score=round(raw - penalty, 6))
    if item.override is not None:
        note = OverrideNote(what="", points=item.override.points, reason=item.override.reason,
                            who=item.override.who)
        record = replace(record, override=note, final_score=round(item.override.points, 6))
    return record, grace_left


def grade_student(policy: LatePolicy, items: Sequence[Handed], spent: int = 0,
                  assumed: bool = False) -> dict[str, GradeRecord]:
    """Each assignment's record for one student; grace days are spent in the order of the
    assignments' own due dates (the order given breaks ties; no due date comes last).
    ``spent``: grace days already used on assignments not in ``items`` (the course's ledger);
    ``assumed``: that figure is not known (the records say so)."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    order = sorted(range(len(items)), key=lambda i: (items[i].due or far, i))
    left = max(0, policy.grace_days - spent)
    records: dict[str, GradeRecord] = {}
    for index in order:
        record, left = grade_one(policy, items[index], left)
        records[items[index].assignment] = replace(
            record, grace_assumed=assumed and record.grace_left is not None)
    return records


def duration_text(seconds: float) -> str:
    """``1 day 3 h``, ``5 h``, ``45 min``, ``less than a minute`` (whole units, rounded down)."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} day{'s' if days != 1 else ''}"
        return f"{text} {hours} h" if hours else text
    if hours:
        return f"{hours} h"
    return f"{minutes} min" if minutes else "less than a minute"


def percent_text(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)
