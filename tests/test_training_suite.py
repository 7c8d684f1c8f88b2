"""What is particular to the hidden suite of ``training``: the GPU tests (0 points) are
skipped on this CPU machine, so CPU-only and GPU grading give the same score; the stub's
classes still define; the public tests catch an easy bug.

Reference 100, stub 0, points, stub up to date: tests/test_suites.py, for every assignment;
equivalents and mutants: tests/test_suite_corpus.py.
"""

from __future__ import annotations

import pytest
from helpers.suite_harness import ROOT, grade, run_public

from grader.core.course import Assignment, load_course
from grader.core.results import SKIPPED
from grader.extract.pipeline import extract_module
from grader.extract.read import read_cells

GPU_TESTS = {"test_train_model__cuda_device", "test_train_model__cuda_default_device",
             "test_evaluate__cuda_device"}
NO_GPU = "needs --device cuda: no GPU on this grading run"


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_course(ROOT).get("training")


def test_gpu_tests_are_skipped_for_no_points_on_a_cpu_run(assignment: Assignment) -> None:
    for path in (assignment.reference, assignment.stub):
        tests = {t.name: t for t in grade(assignment, path).tests}
        assert set(tests) >= GPU_TESTS
        for name in GPU_TESTS:
            assert (tests[name].status, tests[name].max_score, tests[name].message) == (
                SKIPPED, 0, NO_GPU)


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


def test_public_suite_catches_an_easy_bug(assignment: Assignment) -> None:
    mutant = ROOT / "tests" / "mutants" / "training" / "losses_are_tensors.py"
    assert run_public(assignment, mutant) == ["test_train_model_returns_one_float_per_epoch"]
