"""The demo class README's first command grades: up to date, and graded as each student intends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import DEFAULT_ROOT, load_course
from grader.grading import grade_folder
from grader.results import RunResult
from grader.settings import Settings

DEMO = DEFAULT_ROOT / "demo"


def test_demo_submissions_match_the_builder() -> None:
    run = subprocess.run([sys.executable, str(DEMO / "make_demo.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def demo_run() -> RunResult:
    course = load_course(DEFAULT_ROOT)
    settings = Settings(course_root=DEFAULT_ROOT, secret="demo-test", jobs=2)
    return grade_folder(DEMO / "submissions", course, settings)


def by_student(run: RunResult) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for result in run.results:
        table.setdefault(result.student, {})[result.assignment] = result.score
    return table


def test_every_student_has_every_assignment(demo_run: RunResult) -> None:
    assignments = {a.id for a in load_course(DEFAULT_ROOT).assignments}
    table = by_student(demo_run)
    assert set(table) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert all(set(row) == assignments for row in table.values())


@pytest.mark.parametrize("student", ["alice", "erin", "frank"])
def test_correct_code_scores_full_marks_however_it_is_handed_in(demo_run, student) -> None:
    assert set(by_student(demo_run)[student].values()) == {100}


def test_untouched_stubs_score_zero(demo_run: RunResult) -> None:
    assert set(by_student(demo_run)["carol"].values()) == {0}


@pytest.mark.parametrize("student", ["bob", "dave"])
def test_partly_wrong_notebooks_score_between(demo_run, student) -> None:
    assert all(0 < score < 100 for score in by_student(demo_run)[student].values())


def test_the_pdf_is_listed_as_unrecognized(demo_run: RunResult) -> None:
    assert [Path(path).name for path, _ in demo_run.unrecognized] == ["notes.pdf"]
