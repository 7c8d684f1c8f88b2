"""The same submission gets the same score on every run, whoever grades it and how often.

The worker's global RNGs (``random``, numpy, torch) start from the submission's seed, and the
hidden suites check forward passes on weights they choose, not on a model's random initial
weights (an output ReLU passed or failed ``test_SimpleNN__forward`` by chance: 90 or 96).
"""

from __future__ import annotations

import pytest
from helpers.suite_harness import ROOT, grade

from grader.core.course import load_course
from grader.core.settings import Limits
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession

pytestmark = pytest.mark.slow  # the same submissions graded again and again in real workers

DRAW = [
    "import random",
    "import numpy as np",
    "import torch",
    "def draw():\n    return [random.random(), float(np.random.rand()), float(torch.rand(1))]",
    "def init():\n    return torch.nn.Linear(3, 2).weight.detach().numpy().tolist()",
]


def draws(sandbox, seed: int) -> tuple[list[float], list[list[float]]]:
    session = WorkerSession(sandbox, Limits(test_timeout_s=60), DRAW, seed=seed)
    try:
        student = StudentProxy(session)
        return student.draw(), student.init()
    finally:
        session.close()


def test_worker_rngs_start_from_the_submission_seed(isolated_sandbox) -> None:
    first, again, other = (draws(isolated_sandbox, seed) for seed in (7, 7, 8))
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_output_relu_mutant_scores_the_same_for_every_student_and_run() -> None:
    assignment = load_course(ROOT).get("training")
    mutant = ROOT / "tests" / "mutants" / "training" / "relu_on_output.py"
    scores = {(student, run): grade(assignment, mutant, student).score
              for student in ("alice", "bob", "carol", "dave", "erin") for run in range(2)}
    assert len(set(scores.values())) == 1, scores
    forward = {t.name: t for t in grade(assignment, mutant, "frank").tests}
    assert forward["test_SimpleNN__forward"].score == 0
    assert forward["test_SimpleNN__negative_outputs"].score == 0
