"""Loss curves: a test's record_curve reaches the feedback as plain, bounded data, survives the
cache, and is drawn (the student's beside the reference's) as an embedded PNG."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import pytest

from grader.cache import ResultCache, result_from_dict, result_to_dict
from grader.course import load_course
from grader.report import write_reports
from grader.results import FAILED, RunResult, SubmissionResult, TestResult
from grader.runner.grade import Job
from grader.suite import MAX_CURVE_POINTS, make_curve

PNG = b"\x89PNG\r\n\x1a\n"


def _result(*curves) -> SubmissionResult:  # type: ignore[no-untyped-def]
    test = TestResult("test_train__loss_decreases", "train: the loss falls", FAILED, 0.0, 6.0,
                      "the loss went up", 7, 0.2, curves=tuple(curves))
    return SubmissionResult("bob", "backprop", "/s/bob/backprop.ipynb", tests=(test,))


def test_a_curve_is_bounded_plain_floats() -> None:
    curve = make_curve("train", [1, np.float32(0.5), math.inf, math.nan, "x", None, True],
                       np.linspace(1.0, 0.1, 5))
    assert curve.student == (1.0, 0.5, None, None, None, None, None)
    assert all(type(v) is float for v in curve.reference) and len(curve.reference) == 5
    long = make_curve("long", np.arange(10 * MAX_CURVE_POINTS + 1.0), [0.0] * 7)
    assert len(long.student) <= MAX_CURVE_POINTS and long.step == 11
    assert long.student[1] == 11.0 and long.reference == (0.0,)
    assert make_curve("odd", object(), {"a": 1}).student == ()


def test_a_curve_survives_json_and_the_cache(tmp_path: Path) -> None:
    result = _result(make_curve("train", [3.0, math.inf, 2.0], [3.0, 1.0, 0.5]),
                     make_curve("thin", np.arange(5000.0), np.arange(5000.0)))
    data = json.loads(json.dumps(result_to_dict(result), allow_nan=False))
    assert result_from_dict(data) == result
    job = Job("bob", load_course().get("backprop"), tmp_path / "backprop.ipynb")
    cache = ResultCache(tmp_path)
    cache.put(job, "k", result)
    assert cache.get(job, "k").tests[0].curves == result.tests[0].curves  # type: ignore[union-attr]


def test_a_forged_cache_entry_is_bounded_again() -> None:
    data = result_to_dict(_result())
    data["tests"][0]["curves"] = [{"name": "x" * 10_000, "student": [1e308 * 10] * 50_000,
                                   "reference": ["a", 1], "step": -4, "extra": 1}] * 50
    curves = result_from_dict(data).tests[0].curves
    assert len(curves) == 4 and len(curves[0].name) == 200 and curves[0].step == 25
    assert len(curves[0].student) <= MAX_CURVE_POINTS and set(curves[0].student) == {None}
    assert curves[0].reference == (None,)  # thinned with the same step as the student's


def test_feedback_draws_the_curve_beside_the_reference(tmp_path: Path) -> None:
    result = _result(make_curve("train(x, y): loss per epoch", [2.0, 9.0, 1e9, math.inf],
                                [2.0, 1.0, 0.5, 0.25]))
    write_reports(RunResult(results=(result,)), tmp_path)
    html = (tmp_path / "bob" / "backprop" / "feedback.html").read_text()
    uri = html.split('<figure class="curve">')[1].split('src="')[1].split('"')[0]
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).startswith(PNG)
    assert "the reference&#39;s (4 points, dashed)" in html
    md = (tmp_path / "bob" / "backprop" / "feedback.md").read_text()
    assert ("yours 2 → not a finite number from epoch 4 on; the reference's 2 → 0.25 "
            "(4 epochs)") in md


def test_a_log_axis_labels_its_ticks_in_plain_numbers() -> None:
    """The loss chart's log axis (grader.report.plots) ticks 1, 2 and 5 times each power of
    ten over a short range and each power alone over a long one, with no minor ticks, every
    tick labelled "0.01" rather than in mathtext."""
    from matplotlib.figure import Figure

    from grader.report.plots import _plain_log_labels

    cases = {(0.6, 2.0): [1.0, 2.0], (0.03, 2.0): [0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
             (1e-3, 2.0): [0.001, 0.01, 0.1, 1.0], (1e-8, 1e-5): [1e-08, 1e-07, 1e-06, 1e-05]}
    for (low, high), expected in cases.items():
        axes = Figure().add_subplot()
        axes.set_yscale("log")
        axes.set_ylim(low, high)
        _plain_log_labels(axes, low, high)
        ticks = [t for t in axes.yaxis.major.locator() if low <= t <= high]
        assert ticks == pytest.approx(expected), (low, high, ticks)
        labels = [axes.yaxis.major.formatter(t, i) for i, t in enumerate(ticks)]
        assert labels == [f"{t:g}" for t in ticks]
        assert not any("$" in label for label in labels)
        assert list(axes.yaxis.minor.locator()) == []
