"""What is particular to the hidden suite of ``backprop``: the public tests catch an
easy bug and the slides' sign; the feedback on a reversed gradient explains the sign.

Reference 100, stub 0, points, stub up to date: tests/test_suites.py, for every assignment;
equivalents and mutants: tests/test_suite_corpus.py.
"""

from __future__ import annotations

import pytest
from helpers.suite_harness import (
    ROOT,
    grade,
    run_public,
)

from grader.core.course import Assignment, load_course


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_course(ROOT).get("backprop")


def test_public_suite_catches_an_easy_bug(assignment: Assignment) -> None:
    mutant = ROOT / "tests" / "mutants" / "backprop" / "numgrad_divides_by_eps.py"
    assert run_public(assignment, mutant) == ["test_numerical_gradient_of_a_square"]


def test_public_suite_catches_the_slides_sign(assignment: Assignment) -> None:
    mutant = ROOT / "tests" / "mutants" / "backprop" / "backward_slide_sign.py"
    assert run_public(assignment, mutant) == [
        "test_backward_by_hand", "test_backward_gradient_check", "test_train_lengths_and_progress"]


def test_reversed_gradient_feedback_explains_the_sign(assignment: Assignment) -> None:
    result = grade(assignment, ROOT / "tests" / "mutants" / "backprop" / "backward_slide_sign.py")
    messages = [t.message for t in result.tests if t.name.startswith("test_backward__")]
    assert messages and all("opposite sign" in m and "(y_hat - y) / N" in m for m in messages)
