"""What is particular to the hidden suite of ``activations``: the public tests catch an easy bug.

Reference 100, stub 0, points, stub up to date: tests/test_suites.py, for every assignment;
equivalents and mutants: tests/test_suite_corpus.py.
"""

from __future__ import annotations

import pytest
from helpers.suite_harness import (
    ROOT,
    run_public,
)

from grader.core.course import Assignment, load_course


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_course(ROOT).get("activations")


def test_public_suite_catches_an_easy_bug(assignment: Assignment) -> None:
    mutant = ROOT / "tests" / "mutants" / "activations" / "relu_grad_one_at_zero.py"
    assert run_public(assignment, mutant) == ["test_relu_grad_values"]
