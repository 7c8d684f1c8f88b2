"""Classroom 50's score with a late penalty or an override (issue 28): result.json's ``score``
is what the platform shows and records, so it must be the score of record.

Classroom 50's runner (``runner.py``: ``derive_status_and_summary``, ``render_release_body``)
and collector (``collect_scores.py``: ``validate_result``, then the payload is stored) read the
top-level ``score`` and ``max-score``; each test's ``score`` is a whole number from 0 to its
``max-score``, and nothing adds the tests up. :func:`platform_shows` mirrors what they show.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from helpers.classroom50 import contract_problems

from grader.core.deadlines import LatePolicy, Override
from grader.core.grade_record import Deadlines, apply_deadlines
from grader.core.results import FAILED, PASSED, SubmissionResult, TestResult
from grader.integrations.classroom50 import DEADLINE, Identity, result_document, status_and_summary

DUE = dt.datetime.fromisoformat("2026-10-05T23:59:00+02:00")
IDENTITY = Identity(classroom="nn-fall", assignment="activations", owner="alice",
                    assignment_type="individual", submission="submit/2026-10-07T00-59-00Z-abc",
                    commit="https://github.com/o/r/commit/x",
                    release="https://github.com/o/r/releases/tag/x",
                    review="https://github.com/o/r/compare/a...x")


def platform_shows(doc: dict[str, Any]) -> tuple[int, int, str]:
    """(the score the gradebook records, its maximum, the release body's heading), as
    Classroom 50's collector and runner derive them."""
    score, top = int(doc.get("score") or 0), int(doc.get("max-score") or 0)
    return score, top, f"### classroom50 autograde: {score}/{top}"


POLICY = LatePolicy(penalty_per_day=10, max_days=7)


def graded(points: tuple[tuple[float, bool], ...], late: dt.timedelta,
           policy: LatePolicy = POLICY, override: float | None = None
           ) -> tuple[SubmissionResult, dict[str, Any]]:
    tests = tuple(TestResult(f"test_t{i}", f"t{i}", PASSED if ok else FAILED,
                             p if ok else 0.0, p, "" if ok else "wrong")
                  for i, (p, ok) in enumerate(points))
    raw = SubmissionResult("alice", "activations", "activations.ipynb", tests)
    overrides = (Override("alice", "activations", override, "regrade", "TA Bo"),) \
        if override is not None else ()
    deadlines = Deadlines(policy=policy, dues={"activations": DUE},
                          times={("alice", "activations"): DUE + late}, overrides=overrides)
    [result] = apply_deadlines([raw], deadlines)
    return result, result_document([result], IDENTITY, "2026-10-06T23:59:00Z",
                                   "2026-10-07T00:00:00Z")


def deadline_entry(doc: dict[str, Any]) -> dict[str, Any]:
    [entry] = [t for t in doc["tests"] if t["status"] == DEADLINE]
    return entry


@pytest.mark.parametrize(("points", "late_h", "final", "shown", "top"), [
    (((60, True), (21, True), (19, False)), 1, 72.9, 73, 100),  # -10% of 81
    (((62.5, True), (37.5, False)), 30, 50.0, 500, 1000),  # halves: scale 10; -20%
    (((60, True), (40, True)), 3 * 24 + 1, 60.0, 60, 100),  # 4 started days: -40%
    (((60, True), (40, True)), 8 * 24, 0.0, 0, 100),  # past the cutoff
])
def test_the_platform_shows_the_score_of_record(points: tuple[tuple[float, bool], ...],
                                                late_h: float, final: float, shown: int,
                                                top: int) -> None:
    result, doc = graded(points, dt.timedelta(hours=late_h))
    assert result.grade is not None and result.grade.final_score == pytest.approx(final)
    assert contract_problems(doc, "nn-fall", "activations", "alice") == []
    assert platform_shows(doc) == (shown, top, f"### classroom50 autograde: {shown}/{top}")
    # the release table: the tests' column plus the change the deadline row names is the score
    entry = deadline_entry(doc)
    named = float(re.search(r"\(([+-][\d.]+) points\)", entry["test-name"]).group(1))
    scale = top // 100
    assert sum(t["score"] for t in doc["tests"]) + round(named * scale) == shown
    assert (entry["score"], entry["max-score"], entry["passed"]) == (0, 0, False)
    # our own commit status says the same final points
    assert f"Points {final:g}/100" in status_and_summary(doc)[1]


def test_an_override_above_the_autograde_is_the_score() -> None:
    result, doc = graded(((60, True), (40, False)), dt.timedelta(0), override=90.0)
    assert contract_problems(doc, "nn-fall", "activations", "alice") == []
    assert platform_shows(doc)[:2] == (90, 100)
    assert deadline_entry(doc)["test-name"] == "activations: deadline (+30 points)"


def test_on_time_the_tests_add_up_to_the_score() -> None:
    _, doc = graded(((60, True), (40, False)), dt.timedelta(hours=-1))
    assert platform_shows(doc)[:2] == (60, 100) == (sum(t["score"] for t in doc["tests"]), 100)
    assert deadline_entry(doc)["test-name"] == "activations: deadline"
    assert deadline_entry(doc)["message"] == "handed in on time (due 2026-10-05 23:59 +02:00)"
