"""Grace days on the one-student paths (issue 28): `grade ci`, `gradescope-run` and
`classroom50 grade` see only the assignments they grade, so they read the grace days already
spent from the course's ledger (grades.csv of `grade collect`, via --grace-ledger or the
course's grace-ledger.csv); without one they assume the full budget and the line says so.

Over a fixed clock: 3 grace days in the course, forward (due first) used 2 of them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from grader.core.deadline_files import read_grace_ledger
from grader.core.deadlines import LatePolicy
from grader.core.errors import ConfigError
from grader.core.grade_record import Deadlines, apply_deadlines
from grader.core.results import PASSED, SubmissionResult, TestResult
from grader.report.late import ASSUMED, late_line

DUE = dt.datetime.fromisoformat("2026-10-12T23:59:00+02:00")
POLICY = LatePolicy(penalty_per_day=10, max_days=7, grace_days=3)
KNOWN = ("activations", "forward", "backprop")
#: grades.csv as `grade collect` writes it (other columns are ignored)
LEDGER = ("student,assignment,score,max_score,raw_score,late_penalty,final_score,"
          "grace_days_used,late\n"
          "alice,forward,80,100,80,0,80,2,handed in 1 day 3 h after the due date\n"
          "alice,activations,70,100,70,0,70,,handed in on time\n"
          "bob,forward,90,100,90,0,90,0,handed in on time\n")


def ledger(tmp_path: Path, text: str = LEDGER) -> Path:
    path = tmp_path / "grades.csv"
    path.write_text(text)
    return path


def line_for(student: str, late: dt.timedelta, deadlines: Deadlines) -> tuple[float, str]:
    tests = (TestResult("test_relu__values", "relu", PASSED, 80.0, 100.0, ""),)
    result = SubmissionResult(student, "backprop", "backprop.ipynb", tests)
    deadlines = Deadlines(policy=POLICY, dues={"backprop": DUE},
                          times={(student, "backprop"): DUE + late},
                          ledger=deadlines.ledger, one_student=deadlines.one_student)
    [graded] = apply_deadlines([result], deadlines)
    assert graded.grade is not None
    return graded.grade.final_score, late_line(graded.grade)


def test_the_ledger_gives_the_grace_days_spent_elsewhere(tmp_path: Path) -> None:
    read = read_grace_ledger(ledger(tmp_path), KNOWN)
    one = Deadlines(one_student=True, ledger=read)
    # alice spent 2 of 3 on forward: 1 left covers 1 of her 2 started days late
    assert line_for("alice", dt.timedelta(days=1, hours=3), one) == (
        72.0, "handed in 1 day 3 h after the due date: -10%, 1 grace day used, 0 left")
    # bob spent none: both days forgiven
    assert line_for("bob", dt.timedelta(days=1, hours=3), one) == (
        80.0, "handed in 1 day 3 h after the due date: no penalty, 2 grace days used, 1 left")
    # carol is not in the ledger: she has spent none (the ledger is the course's record)
    assert line_for("carol", dt.timedelta(hours=3), one) == (
        80.0, "handed in 3 h after the due date: no penalty, 1 grace day used, 2 left")


def test_without_a_ledger_the_full_budget_is_assumed_and_said() -> None:
    final, line = line_for("alice", dt.timedelta(days=1, hours=3),
                           Deadlines(one_student=True, ledger=None))
    assert final == 80.0
    assert line == ("handed in 1 day 3 h after the due date: no penalty, 2 grace days used, "
                    f"1 left {ASSUMED}")
    # on time: no grace figure, nothing assumed to say
    assert ASSUMED not in line_for("alice", dt.timedelta(hours=-1),
                                   Deadlines(one_student=True))[1]


def test_the_course_wide_run_never_assumes() -> None:
    """`grade` over all submissions spends the budget itself: no ledger, no assumption."""
    final, line = line_for("alice", dt.timedelta(days=1, hours=3), Deadlines())
    assert (final, ASSUMED in line) == (80.0, False)


def test_the_graded_assignment_itself_is_not_counted(tmp_path: Path) -> None:
    """A regrade of forward: the ledger's own forward row is this grading's, not spent
    elsewhere."""
    read = read_grace_ledger(ledger(tmp_path), KNOWN)
    tests = (TestResult("test_relu__values", "relu", PASSED, 80.0, 100.0, ""),)
    result = SubmissionResult("alice", "forward", "forward.ipynb", tests)
    deadlines = Deadlines(policy=POLICY, dues={"forward": DUE},
                          times={("alice", "forward"): DUE + dt.timedelta(days=1, hours=3)},
                          ledger=read, one_student=True)
    [graded] = apply_deadlines([result], deadlines)
    assert graded.grade is not None and graded.grade.grace_used == 2
    assert graded.grade.grace_left == 1


@pytest.mark.parametrize(("text", "message"), [
    ("student,assignment\nalice,forward\n", r"no 'grace_days_used' column"),
    ("student,assignment,grace_days_used\nalice,forward,two\n",
     r"line 2: grace_days_used: 'two' is not a whole number"),
    ("student,assignment,grace_days_used\nalice,nope,1\n", r"line 2: unknown assignment 'nope'"),
    ("student,assignment,grace_days_used\nalice,forward,1\nAlice,forward,1\n",
     r"line 3: Alice/forward again \(first on line 2\)"),
])
def test_a_bad_ledger_is_one_line_naming_file_and_line(tmp_path: Path, text: str,
                                                       message: str) -> None:
    path = ledger(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        read_grace_ledger(path, KNOWN)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
