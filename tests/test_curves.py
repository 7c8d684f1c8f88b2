"""Loss curves: a test's record_curve reaches the feedback as plain, bounded data, survives the
cache, and is drawn (the student's beside the reference's) as an embedded SVG."""

from __future__ import annotations

import base64
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from helpers.browser import chromium, svg_texts_outside
from helpers.resources import needs

from grader.core.course import load_course
from grader.core.results import FAILED, RunResult, SubmissionResult, TestResult
from grader.report import write_reports
from grader.run.cache import ResultCache, result_from_dict, result_to_dict
from grader.submission.grade import Job
from grader.suite import MAX_CURVE_POINTS, make_curve

SVG = "{http://www.w3.org/2000/svg}"


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
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))  # well-formed XML
    assert svg.tag == SVG + "svg" and svg.get("width") == "720"
    lines = {line.get("stroke"): line for line in svg.iter(SVG + "polyline")}
    assert set(lines) == {"#0969da", "#bc4c00"}  # yours and the reference's
    assert len(lines["#bc4c00"].get("points").split()) == 4  # type: ignore[union-attr]
    assert len(lines["#0969da"].get("points").split()) == 3  # inf is a gap
    texts = [text.text for text in svg.iter(SVG + "text")]
    assert "yours goes off the chart" in texts and texts[-1] == "train"  # the title
    assert svg.find(SVG + "clipPath") is not None
    assert "the reference&#39;s (4 points, dashed)" in html
    md = (tmp_path / "bob" / "backprop" / "feedback.md").read_text()
    assert ("yours 2 → not a finite number from epoch 4 on; the reference's 2 → 0.25 "
            "(4 epochs)") in md


def test_a_log_axis_ticks_at_round_numbers() -> None:
    """The loss chart's log axis (grader.report.plots) ticks 1, 2 and 5 times each power of
    ten over a short range and each power alone over a long one, labelled "0.01" (f"{x:g}")."""
    from grader.report.plots import log_ticks

    cases = {(0.6, 2.0): [1.0, 2.0], (0.03, 2.0): [0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
             (1e-3, 2.0): [0.001, 0.01, 0.1, 1.0], (1e-8, 1e-5): [1e-08, 1e-07, 1e-06, 1e-05]}
    for (low, high), expected in cases.items():
        assert log_ticks(low, high) == expected, (low, high)
    assert [f"{t:g}" for t in log_ticks(0.03, 2.0)] == ["0.05", "0.1", "0.2", "0.5", "1", "2"]
    assert log_ticks(0.6, 0.9) == [0.6, 0.7, 0.8, 0.9]  # no power of ten inside: round numbers
    assert len(log_ticks(1e-300, 1e300)) <= 9  # every n-th power, no overflow


def test_extreme_curves_draw_well_formed_and_thinned(tmp_path: Path) -> None:
    """Values at the ends of the float range, gaps, empty and one-point curves all draw a
    well-formed picture with bounded numbers; a long curve is thinned to about 400 points; the
    title is escaped."""
    from grader.core.results import Curve
    from grader.report.plots import MAX_DRAWN_POINTS, loss_curve

    curves = [Curve("a", (1e-300, 1e300, None, 2.0), (1.0, 0.5)), Curve("b", (), ()),
              Curve("c", (None,), (None,)), Curve("d", (-1e308, 1e308), (1.0,)),
              Curve("e", (5e-324, 1e300), (1.0, 1.0)), Curve("f", (0.0, 0.0), (0.0, 0.0)),
              make_curve("long", np.linspace(5.0, 1.0, MAX_CURVE_POINTS),
                         np.linspace(4.0, 0.5, MAX_CURVE_POINTS))]
    for curve in curves:
        picture = loss_curve(curve, '<b title="x">&</b>')
        text = base64.b64decode(picture.uri.split(",", 1)[1]).decode()
        svg = ET.fromstring(text)
        assert "<b" not in text and max(len(n) for n in text.split()) < 200, curve.name
        assert [t.text for t in svg.iter(SVG + "text")][-1] == '<b title="x">&</b>'
        for line in svg.iter(SVG + "polyline"):
            assert len(line.get("points").split()) <= MAX_DRAWN_POINTS + 1  # type: ignore[union-attr]


def test_the_curve_reads_at_a_glance_and_a_lower_end_is_explained() -> None:
    """Text of 12 px or more, the reference drawn over yours (visible where they coincide)
    and dashed in its own colour, and a note when yours ends lower than the reference's."""
    from grader.report.plots import LOWER_NOTE, LOWER_NOTE_LINES, loss_curve

    same = make_curve("train", [2.0, 1.0, 0.5], [2.0, 1.0, 0.5])
    lower = make_curve("train", [2.0, 0.5, 0.1], [2.0, 1.0, 0.5])
    for curve, noted in ((same, False), (lower, True)):
        picture = loss_curve(curve, "train")
        svg = ET.fromstring(base64.b64decode(picture.uri.split(",", 1)[1]))
        assert picture.width >= 700
        assert min(int(t.get("font-size")) for t in svg.iter(SVG + "text")) >= 12
        strokes = [line.get("stroke") for line in svg.iter(SVG + "polyline")]
        assert strokes == ["#0969da", "#bc4c00"]  # the reference's last: on top
        yours, reference = svg.iter(SVG + "polyline")
        assert yours.get("stroke-dasharray") is None and reference.get("stroke-dasharray")
        texts = [t.text for t in svg.iter(SVG + "text")]
        assert {"yours (solid)", "reference (dashed)"} <= set(texts)
        assert (" ".join(texts[-len(LOWER_NOTE_LINES):]) == LOWER_NOTE) is noted
        assert (LOWER_NOTE in picture.alt) is noted
        assert picture.height == int(svg.get("height"))  # (taller by the note's second line)


@pytest.mark.slow
@needs(None if chromium() else "not found (Debian package chromium; .ci/run installs it)",
       "Chromium")
def test_every_text_of_a_picture_fits_it_in_a_browser(tmp_path: Path) -> None:
    """Laid out by Chromium with its fonts, no text of a loss curve (the note under one that
    ends lower, long tick labels on either scale) or of a class's histogram leaves the
    picture: a student once saw the note cut off at the right edge."""
    from grader.report.plots import loss_curve, score_histogram

    pictures = [loss_curve(make_curve("train", [2.0, 0.5, 0.1], [2.0, 1.0, 0.5]), "train"),
                loss_curve(make_curve("fit", [1e-7 * 3**i for i in range(300)],
                                      [2.5e-7] * 300, 7), "gradient_descent_step"),
                loss_curve(make_curve("fit", [-123456.5, 0.001, 98765.25], [1.0, 2.0, 3.0]),
                           "train"),
                score_histogram([(i * 37) % 101 for i in range(540)], 100.0, "backprop"),
                score_histogram([99.5] * 4999, 400.0, "training")]
    svgs = [base64.b64decode(p.uri.split(",", 1)[1]) for p in pictures]
    assert svg_texts_outside(svgs, tmp_path) == []
