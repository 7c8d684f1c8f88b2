"""Gradescope's late due date (issue 28): ``late_due_date`` in submission_metadata.json, the
assignment's and the student's own (extensions included), is the cutoff where present.

The fixture follows Gradescope's documented format (gradescope-autograders.readthedocs.io,
"Submission Metadata"): ``assignment.late_due_date`` (null when not set) and, per user,
``assignment.{release_date, due_date, late_due_date}`` with that student's extensions.
Exact final scores and lines over a fixed clock.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from grader.core.deadlines import Extension, Handed, LatePolicy, grade_one
from grader.core.grade_record import Deadlines, apply_deadlines
from grader.core.results import PASSED, SubmissionResult, TestResult
from grader.integrations.gradescope.metadata import (
    GRADESCOPE_LATE_DUE,
    read_metadata,
    with_metadata,
)
from grader.report.late import late_line

DUE = "2026-10-05T23:59:00+02:00"
LATE_DUE = "2026-10-07T23:59:00+02:00"  # two days of late submissions
POLICY = LatePolicy(penalty_per_day=10, max_penalty=50, max_days=7)


def at(days: float = 0, hours: float = 0) -> str:
    return (dt.datetime.fromisoformat(DUE) + dt.timedelta(days=days, hours=hours)).isoformat()


def metadata(created_at: str, late_due: str | None = LATE_DUE,
             own: dict[str, Any] | None = None) -> dict[str, Any]:
    """submission_metadata.json as Gradescope documents it."""
    return {
        "id": 123456, "created_at": created_at,
        "assignment": {"due_date": DUE, "group_size": None, "group_submission": False,
                       "id": 25828, "course_id": 1234, "late_due_date": late_due,
                       "release_date": "2026-09-28T00:00:00.000000+02:00",
                       "title": "Activations", "total_points": "100.0"},
        "submission_method": "upload",
        "users": [{"email": "alice@example.com", "id": 1234, "name": "Alice",
                   "assignment": own or {"release_date": "2026-09-28T00:00:00+02:00",
                                         "due_date": DUE, "late_due_date": late_due}}],
        "previous_submissions": [],
    }


def graded(tmp_path: Path, document: dict[str, Any], raw: float = 80.0,
           policy: LatePolicy = POLICY) -> tuple[float, str]:
    """(final score, late line) of alice's activations upload under ``document``."""
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(document))
    deadlines = with_metadata(Deadlines(policy=policy), read_metadata(path), "alice",
                              ["activations"])
    tests = (TestResult("test_relu__values", "relu", PASSED, raw, 100.0, ""),)
    [result] = apply_deadlines([SubmissionResult("alice", "activations", "a.ipynb", tests)],
                               deadlines)
    assert result.grade is not None
    return result.grade.final_score, late_line(result.grade)


def test_the_documented_fields_are_read(tmp_path: Path) -> None:
    own = {"due_date": DUE, "late_due_date": at(days=5), "release_date": DUE}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(metadata(at(hours=1), own=own)))
    read = read_metadata(path)
    assert read.assignment_late_due == dt.datetime.fromisoformat(LATE_DUE)
    assert read.late_due == dt.datetime.fromisoformat(at(days=5))


def test_within_the_late_due_date_the_penalty_applies(tmp_path: Path) -> None:
    assert graded(tmp_path, metadata(at(days=1, hours=3))) == (
        64.0, "handed in 1 day 3 h after the due date: -20%")


def test_after_the_late_due_date_not_accepted_before_max_days(tmp_path: Path) -> None:
    """3 days late: within course.toml's 7-day cutoff, but after Gradescope's late due date."""
    assert graded(tmp_path, metadata(at(days=3))) == (
        0.0, "handed in 3 days after the due date, after the late due date "
             "(2026-10-07 23:59 +02:00): not accepted, 0 points")


def test_the_students_own_late_due_date_is_an_extension(tmp_path: Path) -> None:
    own = {"due_date": DUE, "late_due_date": at(days=5), "release_date": DUE}
    final, line = graded(tmp_path, metadata(at(days=3), own=own))
    assert final == 56.0  # three started days: -30%
    assert line == ("handed in 3 days after the due date: -30% (your extended due date "
                    f"2026-10-05 23:59 +02:00: {GRADESCOPE_LATE_DUE})")


def test_without_a_late_due_date_max_days_is_the_cutoff(tmp_path: Path) -> None:
    assert graded(tmp_path, metadata(at(days=3), late_due=None)) == (
        56.0, "handed in 3 days after the due date: -30%")
    assert graded(tmp_path, metadata(at(days=8), late_due=None)) == (
        0.0, "handed in 8 days after the due date, past the 7-day cutoff: not accepted, "
             "0 points")


def test_a_late_due_date_without_a_late_policy(tmp_path: Path) -> None:
    """No [late] table: late but accepted until the late due date, then 0."""
    assert graded(tmp_path, metadata(at(days=1)), policy=LatePolicy()) == (
        80.0, "handed in 1 day after the due date: no penalty")
    assert graded(tmp_path, metadata(at(days=2, hours=1)), policy=LatePolicy())[0] == 0.0


@pytest.mark.parametrize(("submitted", "final"), [(1.5, 64.0), (2.0, 64.0), (2.01, 0.0)])
def test_the_cutoff_in_the_pure_policy(submitted: float, final: float) -> None:
    due = dt.datetime.fromisoformat(DUE)
    item = Handed("activations", 80.0, due=due, cutoff=due + dt.timedelta(days=2),
                  submitted_at=due + dt.timedelta(days=submitted))
    assert grade_one(POLICY, item, 0)[0].final_score == final
    moved = Extension("alice", "activations", "illness", cutoff=due + dt.timedelta(days=4))
    assert grade_one(POLICY, Handed(**{**item.__dict__, "extension": moved}), 0)[0] \
        .final_score == (56.0 if submitted > 2 else final)
