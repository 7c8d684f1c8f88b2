"""A submission whose k functions never return costs k waits (one budget of each function's
first test) plus at most one load, and never more than its submission budget.

The proof counts the grader's waits (SubmissionResult.waits), never seconds: a student whose
seven activation functions spin forever, graded at the strongest level here with the budgets
measured from the reference.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import PASSED, TIMED_OUT, SubmissionResult
from grader.core.settings import Limits, Settings
from grader.run.grading import grade_folder
from grader.submission.grade import suite_hash
from grader.suite.budgets import suite_budgets

pytestmark = pytest.mark.slow  # hanging submissions graded as a class

COURSE = load_course(DEFAULT_ROOT)
ACTIVATIONS = COURSE.get("activations")
SPINNING = ("relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "elu")
CORRECT = '''
def elu_grad(x, alpha=1.0):
    x = np.asarray(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def softmax(z):
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''


def spinning_student(folder: Path) -> Path:
    lines = ["import numpy as np", ""]
    for name in SPINNING:
        arguments = "x, alpha=1.0" if name.startswith("elu") else "x"
        lines.append(f"def {name}({arguments}):\n    while True:\n        pass\n\n")
    (folder / "spinner").mkdir(parents=True)
    path = folder / "spinner" / "activations.py"
    path.write_text("\n".join(lines) + CORRECT, encoding="utf-8")
    return path


def grade_spinner(folder: Path, limits: Limits | None = None) -> SubmissionResult:
    spinning_student(folder)
    settings = Settings(course_root=DEFAULT_ROOT, limits=limits or Limits(), secret="hangs")
    (result,) = grade_folder(folder, COURSE, settings, only=("activations",)).results
    return result


def function_of(test_name: str) -> str:
    return test_name.removeprefix("test_").split("__")[0]


def test_seven_endless_functions_cost_seven_waits(tmp_path: Path) -> None:
    result = grade_spinner(tmp_path)
    assert result.waits == len(SPINNING)
    for name in SPINNING:
        first, *later = [t for t in result.tests if function_of(t.name) == name]
        assert first.status == TIMED_OUT and first.function == name, first
        assert first.earlier_test == "" and f"{name} did not return within" in first.message
        assert later and all(t.status == TIMED_OUT and t.earlier_test == first.name
                             and "not called again" in t.message for t in later), later
    kept = [t for t in result.tests if function_of(t.name) not in SPINNING]
    assert kept and all(t.status == PASSED for t in kept), kept
    assert result.score == sum(t.max_score for t in kept)
    # the waits were the measured budgets, not the 60 s default of an unmeasured suite
    measured = suite_budgets(ACTIVATIONS, suite_hash(ACTIVATIONS))
    assert not measured.stale, measured.stale
    assert all(t.budget_s == round(measured.for_test(t.name), 4) for t in result.tests)


def test_the_submission_budget_bounds_the_waits(tmp_path: Path) -> None:
    """With a submission budget of 5 s and 2 s per test, at most ceil(5 / 2) waits happen;
    everything after the budget is spent fails at once."""
    limits = Limits(test_timeout_s=2, submission_timeout_s=5)
    result = grade_spinner(tmp_path, limits)
    assert 1 <= result.waits <= math.ceil(limits.submission_timeout_s / 2)
    spent = [t for t in result.tests if "time budget of 5 s is spent" in t.message]
    assert spent and all(t.status == TIMED_OUT for t in spent)
    assert result.tests[-1] in spent  # the last test never ran
