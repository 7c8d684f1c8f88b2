"""The hidden suite of ``activations``: reference, stub and public tests.

* the reference notebook scores exactly 100, with 100 points over tests covering every
  contract function;
* the stub generated from the reference earns nothing, and the public tests pass on the
  reference.

Hidden test names are ``test_<function>__<aspect>``; :func:`function_of` maps them back.

Equivalents and mutants: tests/test_suite_corpus.py, for every assignment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_harness import (
    ROOT,
    STUDENTS,
    describe,
    function_of,
    grade,
    run_public,
)

from grader.course import Assignment, load_course
from grader.notebook.stub import stub_text
from grader.results import NOT_ATTEMPTED, PASSED


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_course(ROOT).get("activations")


@pytest.mark.parametrize("student", STUDENTS)
def test_reference_scores_100(assignment: Assignment, student: str) -> None:
    result = grade(assignment, assignment.reference, student)
    assert result.error is None
    assert result.score == result.max_score == 100, describe(result)
    assert all(t.status == PASSED for t in result.tests)
    assert sum(t.max_score for t in result.tests) == 100
    covered = {function_of(t.name, assignment.functions) for t in result.tests}
    assert covered == set(assignment.functions)
    for test in result.tests:
        assert test.max_score > 0, f"{test.name} has no points marker"
        assert test.description.startswith(function_of(test.name, assignment.functions) + ":")


def test_stub_earns_nothing(assignment: Assignment, tmp_path: Path) -> None:
    stub = tmp_path / "activations.ipynb"
    stub.write_text(stub_text(assignment.reference, "activations"), encoding="utf-8")
    result = grade(assignment, stub)
    assert result.score == 0
    assert {t.status for t in result.tests} == {NOT_ATTEMPTED}


def test_public_suite_passes_on_reference(assignment: Assignment) -> None:
    assert run_public(assignment, assignment.reference) == []


def test_public_suite_catches_an_easy_bug(assignment: Assignment) -> None:
    mutant = ROOT / "tests" / "mutants" / "activations" / "relu_grad_one_at_zero.py"
    assert run_public(assignment, mutant) == ["test_relu_grad_values"]
