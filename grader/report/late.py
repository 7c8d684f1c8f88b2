"""The grade of record in words: the late line and the override lines every output shows.

One function per line, so ``grade``, ``grade ci``, Gradescope and Classroom 50 say exactly the
same thing ("handed in 1 day 3 h after the due date: -10%, 1 grace day used, 2 left").
"""

from __future__ import annotations

import datetime as dt

from grader.core.cooldown import Allowance, Cooldown
from grader.core.deadlines import GradeRecord, OverrideNote, duration_text, percent_text
from grader.core.text import visible


def when_text(stamp: str) -> str:
    """``2026-10-05 23:59 +02:00`` (in the time's own offset; ``UTC`` for UTC)."""
    if not stamp:
        return ""
    moment = dt.datetime.fromisoformat(stamp)
    offset = moment.utcoffset()
    zone = "UTC" if not offset else moment.isoformat()[-6:]
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


#: After the grace figures of a one-student path that has no ledger of the course's grace days.
ASSUMED = "(assuming no grace days spent on other assignments; the course's records decide)"


def _grace(record: GradeRecord) -> str:
    if record.grace_left is None:
        return ""
    if record.grace_used:
        used = f"{record.grace_used} grace day{'s' if record.grace_used != 1 else ''} used"
        text = f"{used}, {record.grace_left} left"
    else:
        text = "no grace days left" if record.grace_left == 0 else ""
    return f"{text} {ASSUMED}" if text and record.grace_assumed else text


def late_line(record: GradeRecord | None, handed_in: bool = True) -> str:
    """What the deadline did to this submission ("" when there is no due date)."""
    if record is None or not record.due or not handed_in:
        return ""
    due = when_text(record.due)
    extended = f" (your extended due date {due}: {visible(record.extension)})" \
        if record.extension else ""
    if not record.submitted_at:
        return f"submission time not known, so no late penalty (due {due}){extended}"
    if not record.late:
        return f"handed in on time{extended or f' (due {due})'}"
    head = f"handed in {duration_text(record.late_s)} after the due date"
    if record.not_accepted and record.cutoff:
        return (f"{head}, after the late due date ({when_text(record.cutoff)}): not accepted, "
                f"0 points{extended}")
    if record.not_accepted:
        days = f"{record.cutoff_days:g}"
        return (f"{head}, past the {days}-day cutoff: not accepted, 0 points{extended}")
    parts = [f"-{percent_text(record.penalty_percent)}"
             + (" (the maximum)" if record.capped else "")] if record.penalty_percent \
        else ["no penalty"]
    grace = _grace(record)
    if grace:
        parts.append(grace)
    return f"{head}: {', '.join(parts)}{extended}"


def override_line(note: OverrideNote) -> str:
    """One override: ``score set to 90 by Dr. Smith: regrade request``."""
    who, why = visible(note.who), visible(note.reason)
    if note.what:
        was = f" (autograde {note.was:g})" if note.was is not None else ""
        return f"points of test {visible(note.what)} set to {note.points:g}{was} by {who}: {why}"
    return f"score set to {note.points:g} by {who}: {why}"


def record_lines(record: GradeRecord | None, handed_in: bool = True) -> list[str]:
    """The late line and every override line, in that order (empty without a record)."""
    if record is None:
        return []
    lines = [late_line(record, handed_in)]
    lines += [override_line(note) for note in record.test_overrides]
    if record.override is not None:
        lines.append(override_line(record.override))
    return [line for line in lines if line]


def _minutes(value: float) -> str:
    return f"{value:g} min" if value < 120 else f"{value / 60:g} h"


def cooldown_line(allowed: Allowance, cooldown: Cooldown, due: dt.datetime | None,
                  now: dt.datetime) -> str:
    """What the cooldown says about this practice grading, with the next allowed time."""
    zone = due.tzinfo if due is not None else dt.UTC
    rule = (f"one practice grading every {_minutes(cooldown.minutes)}"
            + (f", up to {cooldown.burst} in a row" if cooldown.burst > 1 else ""))
    until = f"due {when_text(due.isoformat())}, {duration_text((due - now).total_seconds())} " \
        "from now; " if due is not None else ""
    if not allowed.allowed:
        assert allowed.next_at is not None
        return (f"graded too soon: the next grading is allowed at "
                f"{when_text(allowed.next_at.astimezone(zone).isoformat())} ({until}{rule})")
    if allowed.next_at is None:
        return f"practice grading: {allowed.left} more available now ({until}{rule})"
    return (f"practice grading: the next one is allowed at "
            f"{when_text(allowed.next_at.astimezone(zone).isoformat())} ({until}{rule})")
