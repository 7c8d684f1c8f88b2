"""Gradescope's ``submission_metadata.json``: when the upload was made, the student's own due
date (with Gradescope's extensions), and the earlier submissions.

    created_at                       the submission's time (the time of record; a regrade
                                     on Gradescope keeps it)
    users[0].assignment.due_date     this student's due date, extensions included
    users[0].assignment.late_due_date  this student's late due date, extensions included
    assignment.due_date              the assignment's (when the user's is not given)
    assignment.late_due_date         the assignment's late due date (null when not set)
    previous_submissions[].submission_time

A field that is missing or unreadable is left out (``None``): grading never fails on it.
A late due date, where there is one, is the cutoff: a submission after it is not accepted (0
points), in place of course.toml's ``[late] max_days``; between the due date and the late due
date the course's penalty and grace days apply.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.core.cooldown import Allowance, Cooldown, allowance
from grader.core.deadlines import Extension
from grader.core.grade_record import Deadlines

GRADESCOPE_DUE = "your due date on Gradescope"
GRADESCOPE_LATE_DUE = "your late due date on Gradescope"


@dataclass(frozen=True)
class Metadata:
    created_at: dt.datetime | None = None
    due: dt.datetime | None = None  # the student's own
    assignment_due: dt.datetime | None = None
    late_due: dt.datetime | None = None  # the student's own
    assignment_late_due: dt.datetime | None = None
    previous: tuple[dt.datetime, ...] = ()
    #: the results.json of the latest earlier submission (what a refused grading shows again)
    last_results: dict[str, Any] | None = None


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_metadata(path: Path) -> Metadata:
    """What ``path`` says (an empty Metadata when it is missing or not JSON)."""
    try:
        data = _dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError):
        return Metadata()
    users = data.get("users")
    user = _dict(users[0]) if isinstance(users, list) and users else {}
    assignment = _dict(data.get("assignment"))
    own = _dict(user.get("assignment"))
    assignment_due = _time(assignment.get("due_date"))
    assignment_late = _time(assignment.get("late_due_date"))
    previous = [_dict(p) for p in data.get("previous_submissions") or ()] \
        if isinstance(data.get("previous_submissions"), list) else []
    timed = sorted(((t, p) for p in previous
                    if (t := _time(p.get("submission_time"))) is not None),
                   key=lambda pair: pair[0])
    last = _dict(timed[-1][1].get("results")) if timed else {}
    return Metadata(created_at=_time(data.get("created_at")),
                    due=_time(own.get("due_date")) or assignment_due,
                    assignment_due=assignment_due,
                    late_due=_time(own.get("late_due_date")) or assignment_late,
                    assignment_late_due=assignment_late,
                    previous=tuple(t for t, _ in timed),
                    last_results=last if isinstance(last.get("score"), (int, float)) else None)


def with_metadata(deadlines: Deadlines, metadata: Metadata, student: str,
                  assignments: Sequence[str]) -> Deadlines:
    """The course's deadlines for this upload: its time is ``created_at``; the assignment's
    due date and late due date on Gradescope replace assignment.toml's due date and the
    ``max_days`` cutoff (the platform wins); the student's own, where they differ, are an
    extension."""
    key = student.lower()
    times = dict(deadlines.times)
    extensions = dict(deadlines.extensions)
    dues = dict(deadlines.dues)
    cutoffs = dict(deadlines.cutoffs)
    for assignment in assignments:
        if metadata.created_at is not None:
            times[(key, assignment)] = metadata.created_at
        if metadata.assignment_due is not None:
            dues[assignment] = metadata.assignment_due
        if metadata.assignment_late_due is not None:
            cutoffs[assignment] = metadata.assignment_late_due
        if metadata.due is not None and assignment not in dues:
            dues[assignment] = metadata.due
        if metadata.late_due is not None and assignment not in cutoffs:
            cutoffs[assignment] = metadata.late_due
        if (key, assignment) in extensions:  # the course's own extension file wins
            continue
        due = metadata.due if metadata.due not in (None, dues.get(assignment)) else None
        cutoff = metadata.late_due if metadata.late_due not in (None, cutoffs.get(assignment)) \
            else None
        if due is not None or cutoff is not None:
            extensions[(key, assignment)] = Extension(
                student=student, assignment=assignment,
                reason=GRADESCOPE_DUE if due is not None else GRADESCOPE_LATE_DUE, due=due,
                cutoff=cutoff, source="submission_metadata.json")
    return replace(deadlines, times=times, extensions=extensions, dues=dues, cutoffs=cutoffs)


def practice(metadata: Metadata, cooldown: Cooldown | None, due: dt.datetime | None,
             now: dt.datetime) -> Allowance | None:
    """The cooldown's word on this upload: None when there is no cooldown or it is no
    practice grading (at or after the due date)."""
    if cooldown is None or (due is not None and now >= due):
        return None
    return allowance(cooldown, metadata.previous, now)


def refused_document(previous: dict[str, Any], line: str) -> dict[str, Any]:
    """The earlier submission's results shown again, with why this one was not graded (the
    student keeps their last score: Gradescope's recipe)."""
    document = dict(previous)
    said = f"**Not graded: {line}.**"
    document["output"] = f"{said}\n\n{previous.get('output', '')}".strip()
    document["output_format"] = "md"
    document["extra_data"] = {**_dict(previous.get("extra_data")), "rate_limited": True}
    return document
