"""The hidden suite of ``training``: reference, stub and public tests.

* the reference notebook scores exactly 100, with 100 points over tests covering every
  contract name; the GPU tests (0 points) are skipped on this CPU machine, so CPU-only and GPU
  grading give the same score;
* the stub generated from the reference (and committed) earns nothing: every test that runs is
  "not attempted", none is a grader error; the public tests pass on the reference.

Hidden test names are ``test_<name>__<aspect>``; :func:`function_of` maps them back.

Equivalents and mutants: tests/test_suite_corpus.py, for every assignment.
"""

from __future__ import annotations

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
from grader.notebook.extract import extract_module
from grader.notebook.read import read_cells
from grader.notebook.stub import stub_text
from grader.results import NOT_ATTEMPTED, PASSED, SKIPPED

GPU_TESTS = {"test_train_model__cuda_device", "test_train_model__cuda_default_device",
             "test_evaluate__cuda_device"}
NO_GPU = "needs --device cuda: no GPU on this grading run"


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_course(ROOT).get("training")


@pytest.mark.parametrize("student", STUDENTS)
def test_reference_scores_100(assignment: Assignment, student: str) -> None:
    result = grade(assignment, assignment.reference, student)
    assert result.error is None
    assert result.score == result.max_score == 100, describe(result)
    assert sum(t.max_score for t in result.tests) == 100
    covered = {function_of(t.name, assignment.functions) for t in result.tests}
    assert covered == set(assignment.functions)
    for test in result.tests:
        assert test.description.startswith(function_of(test.name, assignment.functions) + ":")
        if test.name in GPU_TESTS:
            assert (test.status, test.max_score, test.message) == (SKIPPED, 0, NO_GPU)
        else:
            assert test.status == PASSED
            assert test.max_score > 0, f"{test.name} has no points marker"
    assert {t.name for t in result.tests} >= GPU_TESTS


def test_committed_stub_is_generated_from_the_reference(assignment: Assignment) -> None:
    assert assignment.stub.read_text(encoding="utf-8") == stub_text(assignment.reference,
                                                                    "training")


def test_stub_earns_nothing(assignment: Assignment) -> None:
    result = grade(assignment, assignment.stub)
    assert result.score == 0
    ran = [t for t in result.tests if t.name not in GPU_TESTS]
    assert ran and {t.status for t in ran} == {NOT_ATTEMPTED}, describe(result)
    assert {t.status for t in result.tests if t.name in GPU_TESTS} == {SKIPPED}


def test_stub_classes_still_define(assignment: Assignment) -> None:
    module = extract_module(read_cells(assignment.stub), assignment.functions)
    assert set(assignment.functions) <= set(module.defined)
    namespace: dict[str, object] = {}
    for statement in module.statements:
        if "matplotlib" not in statement:
            exec(statement, namespace)
    for name in ("SimpleNN", "TwoHiddenLayerNet"):
        with pytest.raises(NotImplementedError):
            namespace[name]()  # type: ignore[operator]


def test_public_suite_passes_on_reference(assignment: Assignment) -> None:
    assert run_public(assignment, assignment.reference) == []


def test_public_suite_catches_an_easy_bug(assignment: Assignment) -> None:
    mutant = ROOT / "tests" / "mutants" / "training" / "losses_are_tensors.py"
    assert run_public(assignment, mutant) == ["test_train_model_returns_one_float_per_epoch"]
