"""Where deadlines come from: assignment.toml's due, course.toml's [late], the --times,
--extensions and overrides CSV files (one-line errors naming the file and line), and the grade
of record applied to real results (test overrides, warnings that never stop a run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from grader.core.course import load_course
from grader.core.deadline_files import (
    read_extensions,
    read_overrides,
    read_policy,
    read_times,
    write_times,
)
from grader.core.deadlines import LatePolicy
from grader.core.errors import ConfigError, CourseError
from grader.core.grade_record import Deadlines, apply_deadlines, load_deadlines
from grader.core.results import PASSED, SubmissionResult, TestResult

KNOWN = ("forward", "backprop")
DUE = dt.datetime.fromisoformat("2026-10-05T23:59:00+02:00")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def course_root(tmp_path: Path, due_line: str, late: str = "") -> Path:
    folder = tmp_path / "course" / "assignments" / "forward"
    folder.mkdir(parents=True)
    write(folder / "assignment.toml", f'title = "Forward"\nfunctions = ["f"]\n{due_line}\n')
    if late:
        write(tmp_path / "course" / "course.toml", late)
    return tmp_path / "course"


@pytest.mark.parametrize("line", ['due = "2026-10-05T23:59:00+02:00"',
                                  "due = 2026-10-05T23:59:00+02:00",
                                  'due = "2026-10-05T21:59:00Z"',
                                  'due = "2026-10-05T23:59:00"\ntimezone = "Europe/Berlin"'])
def test_due_in_assignment_toml(tmp_path: Path, line: str) -> None:
    course = load_course(course_root(tmp_path, line))
    assert course.get("forward").due == DUE


def test_due_without_offset_is_refused(tmp_path: Path) -> None:
    root = course_root(tmp_path, 'due = "2026-10-05T23:59:00"')
    with pytest.raises(CourseError, match=r"assignment.toml: due: .* has no UTC offset"):
        load_course(root)


def test_no_due_is_none(tmp_path: Path) -> None:
    assert load_course(course_root(tmp_path, "")).get("forward").due is None


def test_late_table(tmp_path: Path) -> None:
    root = course_root(tmp_path, "", "[late]\npenalty_per_day = 10\nmax_days = 7\n"
                                     "grace_days = 3\ncounts = \"best\"\n")
    assert read_policy(root) == LatePolicy(penalty_per_day=10, max_days=7, grace_days=3,
                                           counts="best")
    assert read_policy(tmp_path) == LatePolicy()  # no course.toml: no policy


@pytest.mark.parametrize(("table", "message"), [
    ("penalty_per_days = 10", "unknown key 'penalty_per_days'"),
    ("penalty_per_day = -1", "penalty_per_day must be a number >= 0"),
    ("grace_days = 1.5", "grace_days must be a whole number"),
    ("max_penalty = 150", "max_penalty is a percent"),
    ('counts = "first"', "counts must be one of last, best"),
])
def test_bad_late_table(tmp_path: Path, table: str, message: str) -> None:
    root = course_root(tmp_path, "", f"[late]\n{table}\n")
    with pytest.raises(ConfigError, match=r"course.toml: \[late\]: " + message):
        read_policy(root)


def test_times(tmp_path: Path) -> None:
    path = write(tmp_path / "times.csv", "student,assignment,submitted_at\n"
                 "Alice,forward,2026-10-06T00:59:00+02:00\nbob,backprop,2026-10-01T10:00:00Z\n")
    times = read_times(path, KNOWN)
    assert times[("alice", "forward")] == DUE + dt.timedelta(hours=1)
    again = write(tmp_path / "again.csv", write_times(times))
    assert read_times(again, KNOWN) == times


@pytest.mark.parametrize(("rows", "message"), [
    ("alice,forward,yesterday", r"times.csv: line 2: submitted_at: 'yesterday' is not an ISO"),
    ("alice,forward,2026-10-06T00:59:00", r"times.csv: line 2: submitted_at: .* no UTC offset"),
    ("alice,nope,2026-10-06T00:59:00Z", r"times.csv: line 2: unknown assignment 'nope'"),
    ("alice,forward,2026-10-06T00:59:00Z\nALICE,forward,2026-10-06T00:59:00Z",
     r"times.csv: line 3: ALICE/forward again \(first on line 2\)"),
    (",forward,2026-10-06T00:59:00Z", r"times.csv: line 2: empty student"),
    ("alice,forward,2026-10-06T00:59:00Z,extra", r"times.csv: line 2: more cells"),
])
def test_bad_times(tmp_path: Path, rows: str, message: str) -> None:
    path = write(tmp_path / "times.csv", f"student,assignment,submitted_at\n{rows}\n")
    with pytest.raises(ConfigError, match=message):
        read_times(path, KNOWN)


def test_times_header_needs_its_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "times.csv", "student,assignment,when\nalice,forward,x\n")
    with pytest.raises(ConfigError, match=r"times.csv: no 'submitted_at' column"):
        read_times(path, KNOWN)


def test_extensions(tmp_path: Path) -> None:
    path = write(tmp_path / "ext.csv", "student,assignment,due,reason\n"
                 "alice,forward,+2,illness\nbob,forward,2026-10-09T12:00:00+02:00,exchange\n")
    found = read_extensions(path, KNOWN)
    assert found[("alice", "forward")].applied_to(DUE) == DUE + dt.timedelta(days=2)
    assert found[("bob", "forward")].applied_to(DUE) == dt.datetime.fromisoformat(
        "2026-10-09T12:00:00+02:00")
    assert found[("alice", "forward")].source == "ext.csv line 2"


@pytest.mark.parametrize(("row", "message"), [
    ("alice,forward,+2,", r"ext.csv: line 2: an extension needs a reason"),
    ("alice,forward,soon,ill", r"ext.csv: line 2: due: 'soon' is not an ISO"),
    ("alice,forward,+x,ill", r"ext.csv: line 2: due '\+x' is neither"),
])
def test_bad_extensions(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path / "ext.csv", f"student,assignment,due,reason\n{row}\n")
    with pytest.raises(ConfigError, match=message):
        read_extensions(path, KNOWN)


@pytest.mark.parametrize(("row", "message"), [
    ("alice,forward,ninety,regrade,Dr. Smith,", r"ov.csv: line 2: points 'ninety' is not"),
    ("alice,forward,90,,Dr. Smith,", r"ov.csv: line 2: an override needs a reason"),
    ("alice,forward,90,regrade,,", r"ov.csv: line 2: an override needs a who"),
    ("alice,forward,-1,regrade,Dr. Smith,", r"ov.csv: line 2: points must be a number >= 0"),
    ("alice,forward,90,a,b,\nalice,forward,80,c,d,", r"ov.csv: line 3: overrides alice/forward "
                                                      r"again \(first on line 2\)"),
])
def test_bad_overrides(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path / "ov.csv", f"student,assignment,points,reason,who,test\n{row}\n")
    with pytest.raises(ConfigError, match=message):
        read_overrides(path, KNOWN)


def result(student: str, assignment: str, scores: tuple[float, ...]) -> SubmissionResult:
    tests = tuple(TestResult(name=f"test_t{i}", description=f"t{i}", status=PASSED, score=s,
                             max_score=10.0, message="") for i, s in enumerate(scores))
    return SubmissionResult(student=student, assignment=assignment, path=f"{assignment}.ipynb",
                            tests=tests)


def test_apply_with_test_override_and_penalty(tmp_path: Path) -> None:
    overrides = read_overrides(write(tmp_path / "ov.csv",
                                     "student,assignment,points,reason,who,test\n"
                                     "alice,forward,10,regrade #3,TA Bo,test_t1\n"
                                     "alice,forward,5,typo,TA Bo,test_nope\n"
                                     "carol,forward,50,absent,TA Bo,\n"), KNOWN)
    deadlines = Deadlines(policy=LatePolicy(penalty_per_day=10), dues={"forward": DUE},
                          times={("alice", "forward"): DUE + dt.timedelta(hours=3)},
                          overrides=overrides)
    warnings: list[str] = []
    [graded] = apply_deadlines([result("alice", "forward", (10.0, 0.0))], deadlines,
                               warnings.append)
    assert graded.raw_score == 20.0 and graded.score == 18.0
    assert graded.grade is not None and graded.grade.late_penalty == 2.0
    assert graded.tests[1].score == 10.0
    assert graded.tests[1].message == "Points set to 10 by TA Bo: regrade #3"
    assert warnings == ["ov.csv line 3: alice/forward has no test 'test_nope'; not applied",
                        "ov.csv line 4: no graded submission of carol/forward; not applied"]


def test_inactive_deadlines_change_nothing() -> None:
    results = (result("alice", "forward", (3.0,)),)
    assert apply_deadlines(results, Deadlines()) == results
    assert results[0].grade is None and results[0].score == 3.0


def test_load_deadlines_finds_the_course_files(tmp_path: Path) -> None:
    root = course_root(tmp_path, 'due = "2026-10-05T23:59:00+02:00"',
                       "[late]\npenalty_per_day = 5\n")
    write(root / "overrides.csv", "student,assignment,points,reason,who\n"
                                  "alice,forward,70,regrade,Dr. Smith\n")
    deadlines = load_deadlines(load_course(root))
    assert deadlines.dues == {"forward": DUE}
    assert deadlines.policy.penalty_per_day == 5
    assert [o.points for o in deadlines.overrides] == [70.0]


def test_push_time_comes_from_the_runner_never_from_files(tmp_path: Path) -> None:
    import os
    import subprocess

    from grader.integrations.ci import push_time

    checkout = tmp_path / "repo"
    checkout.mkdir()
    (checkout / "hw.ipynb").write_text("{}")
    os.utime(checkout / "hw.ipynb", (0, 0))  # a file time the student controls: never used
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x",
               "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x",
               "GIT_COMMITTER_DATE": "2026-10-06T01:00:00+02:00"}
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "hw"]):
        subprocess.run(["git", "-C", str(checkout), *command], check=True, env=git_env)
    event = tmp_path / "event.json"
    event.write_text('{"repository": {"pushed_at": 1791237600}}')  # 2026-10-05T22:00:00Z
    given = {"GRADER_SUBMITTED_AT": "2026-10-05T20:00:00Z", "GITHUB_EVENT_PATH": str(event)}
    assert push_time(given, checkout) == dt.datetime(2026, 10, 5, 20, tzinfo=dt.UTC)
    assert push_time({"GITHUB_EVENT_PATH": str(event)}, checkout) == \
        dt.datetime(2026, 10, 5, 22, tzinfo=dt.UTC)
    assert push_time({}, checkout) == DUE + dt.timedelta(minutes=61)
    assert push_time({}, tmp_path) is None  # not a checkout: no time, so never late
    with pytest.raises(ConfigError, match=r"\$GRADER_SUBMITTED_AT: 'soon' is not an ISO"):
        push_time({"GRADER_SUBMITTED_AT": "soon"}, checkout)


def test_a_gradescope_export_gives_each_submission_its_created_at(tmp_path: Path) -> None:
    from helpers.lms_layouts import gradescope_export

    from grader.commands.grade import source_times
    from grader.core.course import DEFAULT_ROOT
    from grader.run.discover import discover_view
    from grader.run.layouts import open_source

    course = load_course(DEFAULT_ROOT)
    source = gradescope_export(tmp_path / "gs", only=("activations",), who=("alice", "bob"))
    with open_source(source, None) as view:
        times = source_times(discover_view(view, course.assignments))
    assert sorted(times.values()) == [
        dt.datetime.fromisoformat("2026-11-01T10:15:00+01:00"),
        dt.datetime.fromisoformat("2026-11-02T10:15:00+01:00")]
    assert {assignment for _, assignment in times} == {"activations"}
