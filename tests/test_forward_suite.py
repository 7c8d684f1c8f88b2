"""The hidden suite of ``forward`` grades right: reference, stub, equivalents and mutants.

* the reference notebook scores 100, and the points add up to 100;
* the generated stub scores 0, every test "not attempted", no grader error, and the committed
  stub is byte-identical to a freshly generated one;
* every correct-but-different implementation in tests/equivalents/forward/ scores 100;
* every single-bug variant in tests/mutants/forward/ scores below 100 and loses points exactly
  in the tests of the functions its ``# breaks:`` header names (test names are
  ``test_<function>__<aspect>``).

Graded with the in-process sandbox (trusted code only) and a fixed secret, for speed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from grader.course import load_course
from grader.notebook.stub import stub_text
from grader.results import ERROR, NOT_ATTEMPTED, PASSED, SubmissionResult
from grader.runner.grade import Job, grade_job
from grader.sandbox.inprocess import InProcessSandbox
from grader.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = load_course(ROOT).get("forward")
SETTINGS = Settings(course_root=ROOT, secret="test-secret")
MUTANTS = sorted((ROOT / "tests" / "mutants" / "forward").glob("*.py"))
EQUIVALENTS = sorted((ROOT / "tests" / "equivalents" / "forward").glob("*.py"))


@cache
def graded(path: Path) -> SubmissionResult:
    return grade_job(Job("alice", ASSIGNMENT, path), SETTINGS, InProcessSandbox())


def function_of(test_name: str) -> str:
    return test_name.removeprefix("test_").split("__")[0]


def describe(result: SubmissionResult) -> str:
    return "\n".join(f"{t.name}: {t.status} {t.score}/{t.max_score} {t.message[:300]}"
                     for t in result.tests if t.status != PASSED)


def header(path: Path, key: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path.name} has no '# {key}:' header")


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


@pytest.mark.parametrize("path", EQUIVALENTS, ids=lambda p: p.stem)
def test_equivalent_scores_full_marks(path: Path) -> None:
    result = graded(path)
    assert result.error is None
    assert result.score == 100, describe(result)


def test_there_are_enough_mutants_and_equivalents() -> None:
    assert len(MUTANTS) >= 12
    assert len(EQUIVALENTS) >= 3


@pytest.mark.parametrize("path", MUTANTS, ids=lambda p: p.stem)
def test_mutant_loses_points_only_where_it_breaks(path: Path) -> None:
    assert header(path, "mutant")
    breaks = {name.strip() for name in header(path, "breaks").split(",")}
    assert breaks <= set(ASSIGNMENT.functions), f"unknown function in # breaks: {breaks}"
    result = graded(path)
    assert not any(t.status == ERROR for t in result.tests), describe(result)
    assert result.score < 100
    lost = {function_of(t.name) for t in result.tests if t.score < t.max_score}
    assert lost == breaks, f"lost points in {sorted(lost)}, expected {sorted(breaks)}\n" + (
        describe(result))
