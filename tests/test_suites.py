"""What every assignment's hidden suite must show, said once for all of them:

* the reference notebook scores exactly 100 for every student, with 100 points over tests that
  cover every contract function (``test_<function>__<aspect>``, a docstring starting with
  ``<function>:``); only 0-point tests may be skipped (the GPU checks on a CPU machine);
* the committed stub is the one generated from the reference, and it earns nothing: every test
  that runs is "not attempted", none is a grader error;
* the public tests pass on the reference.

What is particular to one assignment stays in tests/test_<id>_suite.py; equivalents and
mutants: tests/test_suite_corpus.py.
"""

from __future__ import annotations

import pytest
from helpers.suite_harness import ROOT, STUDENTS, describe, function_of, grade, run_public

from grader.core.course import Assignment, load_course
from grader.core.results import NOT_ATTEMPTED, PASSED, SKIPPED
from grader.extract.stub import stub_text

ASSIGNMENTS = [a.id for a in load_course(ROOT).assignments]


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request: pytest.FixtureRequest) -> Assignment:
    return load_course(ROOT).get(request.param)


def test_the_course_has_its_assignments() -> None:
    assert {"activations", "forward", "backprop", "training"} <= set(ASSIGNMENTS)


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
        if test.status == SKIPPED:
            assert test.max_score == 0, f"{test.name} is skipped but worth points"
        else:
            assert test.status == PASSED
            assert test.max_score > 0, f"{test.name} has no points marker"


def test_committed_stub_is_generated_from_the_reference(assignment: Assignment) -> None:
    assert assignment.stub.read_text(encoding="utf-8") == stub_text(assignment.reference,
                                                                    assignment.id)


def test_stub_earns_nothing(assignment: Assignment) -> None:
    result = grade(assignment, assignment.stub)
    assert result.error is None
    assert result.score == 0
    ran = [t for t in result.tests if t.status != SKIPPED]
    assert ran and {t.status for t in ran} == {NOT_ATTEMPTED}, describe(result)
    assert all(t.max_score == 0 for t in result.tests if t.status == SKIPPED)


def test_public_suite_passes_on_reference(assignment: Assignment) -> None:
    assert run_public(assignment, assignment.reference) == []
