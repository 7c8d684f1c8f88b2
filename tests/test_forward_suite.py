"""The hidden suite of ``forward``: reference and stub.

* the reference notebook scores 100, and the points add up to 100;
* the generated stub scores 0, every test "not attempted", no grader error, and the committed
  stub is byte-identical to a freshly generated one;

Equivalents and mutants: tests/test_suite_corpus.py, for every assignment.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from grader.course import load_course
from grader.notebook.stub import stub_text
from grader.results import ERROR, NOT_ATTEMPTED, PASSED, SubmissionResult
from grader.runner.grade import Job, grade_job
from grader.sandbox.inprocess import InProcessSandbox
from grader.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = load_course(ROOT).get("forward")
SETTINGS = Settings(course_root=ROOT, secret="test-secret")


@cache
def graded(path: Path) -> SubmissionResult:
    return grade_job(Job("alice", ASSIGNMENT, path), SETTINGS, InProcessSandbox())


def function_of(test_name: str) -> str:
    return test_name.removeprefix("test_").split("__")[0]


def describe(result: SubmissionResult) -> str:
    return "\n".join(f"{t.name}: {t.status} {t.score}/{t.max_score} {t.message[:300]}"
                     for t in result.tests if t.status != PASSED)


def test_reference_scores_full_marks() -> None:
    result = graded(ASSIGNMENT.reference)
    assert result.error is None
    assert result.score == 100, describe(result)


def test_points_add_up_to_100_and_name_contract_functions() -> None:
    result = graded(ASSIGNMENT.reference)
    assert sum(t.max_score for t in result.tests) == 100
    assert all(t.max_score > 0 for t in result.tests)
    assert {function_of(t.name) for t in result.tests} == set(ASSIGNMENT.functions)
    assert all(t.description != t.name for t in result.tests), "every test needs a docstring"


def test_stub_is_regenerated_byte_identical() -> None:
    expected = stub_text(ASSIGNMENT.reference, ASSIGNMENT.id)
    assert ASSIGNMENT.stub.read_text(encoding="utf-8") == expected


def test_stub_scores_zero_and_every_test_is_not_attempted() -> None:
    result = graded(ASSIGNMENT.stub)
    assert result.score == 0
    assert result.tests
    assert all(t.status == NOT_ATTEMPTED for t in result.tests), describe(result)
    assert not any(t.status == ERROR for t in result.tests)

