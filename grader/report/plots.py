"""Pictures for the reports: score histograms and loss curves, as SVG ``data:`` URIs.

Every image is embedded, so each HTML report stands alone with no network. Both are written
as SVG text from the numbers, no plotting library: the histogram (one per assignment per
class run) was a matplotlib figure, whose import and font scan cost 0.7-1.0 s at the end of
every class run; the loss curve is on every feedback page of a training test, written one
after another in the grading process, where a matplotlib figure (about 50 ms) made rendering
cost more than a tenth of grading. Values are the grader's own numbers (scores, or a curve's
floats, bounded and finite or None: grader.suite.make_curve), written at a fixed precision;
the only text is the grader's title, XML-escaped all the same.
"""

from __future__ import annotations

import base64
import bisect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from grader.core.results import Curve

#: Size of a histogram in CSS pixels.
WIDTH, HEIGHT = 480, 240


@dataclass(frozen=True)
class Picture:
    uri: str
    width: int
    height: int
    alt: str


#: The x axis of a histogram runs from 0 to a max score in this range, else to 1.
_SANE_TOP = (1e-9, 1e12)
#: A histogram's plotting area within its WIDTH x HEIGHT: room for the count and score tick
#: labels, the axis labels and the title.
_H_LEFT, _H_RIGHT, _H_TOP, _H_BOTTOM = 56, WIDTH - 16, 30, HEIGHT - 46


def histogram_counts(scores: Sequence[float], top: float) -> list[int]:
    """How many of ``scores`` fall in each tenth of 0..``top`` (the last tenth includes
    ``top``; below 0 counts as 0 and above ``top`` as ``top``; nan is left out)."""
    edges = [top * i / 10 for i in range(11)]
    counts = [0] * 10
    for score in scores:
        if math.isnan(score):
            continue
        clipped = min(max(score, 0.0), top)
        counts[min(bisect.bisect_right(edges, clipped) - 1, 9)] += 1
    return counts


def score_histogram(scores: Sequence[float], max_score: float, title: str) -> Picture:
    """How many students scored in each tenth of ``max_score``, as SVG text written from the
    counts (as the loss curves are): no plotting library, well under a millisecond, where a
    matplotlib figure cost its import and a font scan (0.7-1.0 s of each class run's end)."""
    top = max_score if _SANE_TOP[0] <= max_score <= _SANE_TOP[1] else 1.0  # nan: not sane
    counts = histogram_counts(scores, top)
    highest = max(max(counts), 1)
    step = max(1, round(_nice_step(highest, 6)))  # 1, 2 or 5 x 10^k students: round ticks
    y_top = step * math.ceil(highest / step)

    def x(score: float) -> float:
        return _H_LEFT + score / top * (_H_RIGHT - _H_LEFT)

    def y(count: float) -> float:
        return _H_BOTTOM - count / y_top * (_H_BOTTOM - _H_TOP)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif" '
             f'fill="{_INK}">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    for count in range(0, y_top + 1, step):
        parts.append(f'<line x1="{_H_LEFT - 3.5}" x2="{_H_LEFT}" y1="{y(count):.1f}" '
                     f'y2="{y(count):.1f}" stroke="{_INK}" stroke-width="0.8"/>')
        parts.append(_text(_H_LEFT - 6, y(count) + 4, str(count), "end", 11))
    for tick in linear_ticks(0.0, top):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{_H_BOTTOM}" '
                     f'y2="{_H_BOTTOM + 3.5}" stroke="{_INK}" stroke-width="0.8"/>')
        parts.append(_text(x(tick), _H_BOTTOM + 15, f"{tick:g}", size=11))
    width = (_H_RIGHT - _H_LEFT) / 10
    for index, count in enumerate(counts):
        if count:
            parts.append(f'<rect x="{_H_LEFT + index * width:.1f}" y="{y(count):.1f}" '
                         f'width="{width:.1f}" height="{y(0) - y(count):.1f}" fill="{_BLUE}" '
                         'stroke="white" stroke-width="1"/>')
    parts.append(f'<rect x="{_H_LEFT}" y="{_H_TOP}" width="{_H_RIGHT - _H_LEFT}" '
                 f'height="{_H_BOTTOM - _H_TOP}" fill="none" stroke="{_INK}" '
                 'stroke-width="0.8"/>')
    parts.append(_text((_H_LEFT + _H_RIGHT) / 2, HEIGHT - 10, "score", size=12))
    middle = (_H_TOP + _H_BOTTOM) / 2
    parts.append(_text(16, middle, "students", size=12,
                       extra=f'transform="rotate(-90 16 {middle:.1f})"'))
    parts.append(_text((_H_LEFT + _H_RIGHT) / 2, _H_TOP - 10, title, size=13))
    parts.append("</svg>")
    svg = "".join(parts).encode("utf-8")
    alt = (f"Histogram of {len(scores)} scores out of {top:g} for {title}; students in each "
           f"tenth, lowest first: {', '.join(map(str, counts))}")
    return Picture("data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                   WIDTH, HEIGHT, alt)


#: A student's loss this many times the reference's largest is drawn off the chart.
_OFF_CHART = 100.0
#: Most points drawn of one series (a curve holds up to grader.suite.MAX_CURVE_POINTS).
MAX_DRAWN_POINTS = 400
#: A loss curve's size in CSS pixels (wide enough to read at a glance, text 12-14 px) and its
#: plotting area: room for seven-character tick labels, the axis labels and the title.
CURVE_WIDTH, CURVE_HEIGHT = 720, 340
_LEFT, _RIGHT = 78, CURVE_WIDTH - 24
_TOP, _BOTTOM = 34, CURVE_HEIGHT - 66
#: How far (pixels) past the plotting area a point may be written: a far-off value is pulled
#: in to here (its line leaves the area at nearly the same angle), never a 300-digit number.
_FAR = 10_000.0
#: The least positive float: a log axis's bottom is never 0.
_TINY = 5e-324
_BLUE, _INK = "#0969da", "#1f2328"
#: The reference's colour: orange, dashed, drawn over the student's (it stays visible where
#: the two coincide); blue and orange stay apart for the common colour-vision deficiencies.
_ORANGE = "#bc4c00"
_REFERENCE_STYLE = f'stroke="{_ORANGE}" stroke-width="2.2" stroke-dasharray="8,4"'
_STUDENT_STYLE = f'stroke="{_BLUE}" stroke-width="3"'
#: The note under a chart whose student curve ends below the reference's, in lines that fit
#: the picture's width (13 px text: about 8 px a character at most); the picture grows by
#: a line's height for it.
LOWER_NOTE_LINES = ("Yours ends lower than the reference: lower is not better here,",
                    "the reference is what correct code reaches.")
LOWER_NOTE = " ".join(LOWER_NOTE_LINES)
_NOTE_LINE = 18


def _nice_step(span: float, count: float = 5) -> float:
    """1, 2 or 5 times a power of ten: about ``count`` steps across ``span`` (> 0)."""
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next((m * power for m in (1.0, 2.0, 5.0) if m * power >= raw), 10.0 * power)


def linear_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values from ``low`` to ``high`` about ``count`` steps apart."""
    if not high > low:
        return [low]
    step = _nice_step(high / 2 - low / 2, count / 2)  # halves: no overflow near 1e308
    first = math.ceil(low / step)
    ticks = [float(f"{i * step:.12g}") for i in range(first, first + 3 * count)]
    return [t for t in ticks if t <= high + step * 1e-9]


def log_ticks(low: float, high: float) -> list[float]:
    """Ticks of a log axis from ``low`` to ``high`` (both > 0): 1, 2 and 5 times each power of
    ten over at most 2.5 decades, each power alone (every n-th, to about eight) over more;
    round linear ticks where that would leave fewer than two."""
    decades = math.log10(high) - math.log10(low)  # not high / low: that can overflow
    subs = (1, 2, 5) if decades <= 2.5 else (1,)
    every = max(1, math.ceil(decades / 8))
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    ticks = [float(f"{sub}e{power}") for power in range(first, last + 1)
             if power % every == 0 for sub in subs]
    ticks = [t for t in ticks if t > 0 and low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
    return ticks if len(ticks) >= 2 else [t for t in linear_ticks(low, high) if t > 0]


def _thin(values: Sequence[float | None], step: int) -> list[tuple[float, float | None]]:
    """(epoch, value) of at most about MAX_DRAWN_POINTS points: the first of each run of
    ``stride`` values, None where any of the run was (a gap stays a gap), and the last."""
    stride = max(1, math.ceil(len(values) / MAX_DRAWN_POINTS))
    points = []
    for start in range(0, len(values), stride):
        run = values[start:start + stride]
        points.append((1.0 + start * step, None if None in run else run[0]))
    if stride > 1 and len(values) % stride != 1:
        points.append((1.0 + (len(values) - 1) * step, values[-1]))
    return points


def _polylines(points: list[tuple[float, float | None]], x: Callable[[float], float],
               y: Callable[[float], float], style: str) -> list[str]:
    """One <polyline> per run of values between gaps (a lone value draws nothing, as in a
    line plot)."""
    lines, run = [], []
    for epoch, value in [*points, (0.0, None)]:
        if value is not None:
            run.append(f"{x(epoch):.1f},{y(value):.1f}")
            continue
        if len(run) > 1:
            lines.append(f'<polyline points="{" ".join(run)}" fill="none" {style}/>')
        run = []
    return lines


#: What XML 1.0 cannot hold (C0 controls but tab and newline, lone surrogates, U+FFFE/U+FFFF):
#: one such character in a title made the browser show a broken picture instead of the SVG.
_REPLACEMENT = "\ufffd"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 12,
          extra: str = "") -> str:
    shown = escape(_NOT_XML.sub(_REPLACEMENT, text))
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'{extra}>{shown}</text>')


def _y_range(finite: list[float], reference: list[float], log: bool,
             off_chart: bool) -> tuple[float, float]:
    """The loss axis's bottom and top: every value with a margin, but no higher than
    _OFF_CHART times the reference's largest where the student's goes off the chart."""
    low = min(finite, default=0.0)
    high = _OFF_CHART * max(reference) if off_chart else max(finite, default=1.0)
    if log:
        if off_chart:
            return max(0.5 * low, _TINY), high
        low_power, high_power = math.log10(low), max(math.log10(high), math.log10(low) + 0.004)
        margin = 0.05 * (high_power - low_power)
        return max(10 ** (low_power - margin), _TINY), 10 ** min(high_power + margin, 308.0)
    if not high - low > _SMALLEST * max(abs(low), abs(high), 1.0):
        half = abs(low) / 2 or 0.5
        return low - half, high + half
    margin = (high / 2 - low / 2) / 10  # halves: no overflow near 1e308
    return low - margin, high + margin


#: Values are drawn within +-_LARGEST, and as 0 when closer to 0 than _SMALLEST (a subnormal):
#: every sum, margin, logarithm and step below stays finite and nonzero, whatever floats a
#: curve holds.
_LARGEST, _SMALLEST = 1e300, 1e-300


def _drawable(values: Sequence[float | None]) -> tuple[float | None, ...]:
    """Each value as a finite float within +-_LARGEST, None where it is not one (nan, inf,
    not a number)."""
    def one(value: object) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        number = float(value)
        if not math.isfinite(number):
            return None
        return 0.0 if abs(number) < _SMALLEST else min(max(number, -_LARGEST), _LARGEST)

    return tuple(one(v) for v in values)


def _x_ticks(last: float) -> list[float]:
    """Epochs from 1 to ``last`` a round whole number apart: each a multiple of it."""
    step = max(1.0, _nice_step(last - 1)) if last > 1 else 1.0
    return [1.0] if step > 1 and last / step < 2 else [
        step * i for i in range(max(1, math.ceil(1 / step)), math.floor(last / step) + 1)]


def loss_curve(curve: Curve, title: str) -> Picture:
    """The student's curve (solid blue) and the reference's (dashed orange, drawn on top) on
    one pair of axes, per epoch, as SVG, with a note where the student's ends lower; a log
    scale where every value is positive (losses span decades); a value that was not finite
    is a gap; a student's curve that explodes is cut off the chart."""
    curve = Curve(curve.name, _drawable(curve.student), _drawable(curve.reference),
                  curve.step if isinstance(curve.step, int) and 1 <= curve.step <= 10**6 else 1)
    finite = [v for v in (*curve.student, *curve.reference) if v is not None]
    reference = [v for v in curve.reference if v is not None]
    off_chart = bool(reference) and bool(finite) and max(finite) > _OFF_CHART * max(
        reference) > 0
    log = bool(finite) and min(finite) > 0
    bottom, top = _y_range(finite, reference, log, off_chart)
    if not top > bottom:  # cannot happen for drawable values; a picture all the same
        bottom, top = (bottom / 10, bottom * 10) if log else (bottom - 1.0, bottom + 1.0)
    last = 1.0 + (max(len(curve.student), len(curve.reference), 1) - 1) * curve.step
    x_low, x_high = (1.0 - 0.05 * (last - 1), last + 0.05 * (last - 1)) if last > 1 else (
        0.5, 1.5)

    def x(epoch: float) -> float:
        return _LEFT + (epoch - x_low) / (x_high - x_low) * (_RIGHT - _LEFT)

    def y(value: float) -> float:
        if log:
            fraction = (math.log10(value) - math.log10(bottom)) / (
                math.log10(top) - math.log10(bottom))
        else:
            fraction = (value / 2 - bottom / 2) / (top / 2 - bottom / 2)
        return min(max(_BOTTOM - fraction * (_BOTTOM - _TOP), _TOP - _FAR), _BOTTOM + _FAR)

    y_ticks = log_ticks(bottom, top) if log else linear_ticks(bottom, top)
    lower = ends_lower(curve)
    height = CURVE_HEIGHT + (_NOTE_LINE * (len(LOWER_NOTE_LINES) - 1) if lower else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{CURVE_WIDTH}" '
             f'height="{height}" viewBox="0 0 {CURVE_WIDTH} {height}" '
             f'font-family="DejaVu Sans, Arial, sans-serif" fill="{_INK}">',
             f'<rect width="{CURVE_WIDTH}" height="{height}" fill="white"/>',
             f'<clipPath id="plot"><rect x="{_LEFT}" y="{_TOP}" width="{_RIGHT - _LEFT}" '
             f'height="{_BOTTOM - _TOP}"/></clipPath>']
    for tick in y_ticks:
        parts.append(f'<line x1="{_LEFT - 3.5}" x2="{_LEFT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="{_INK}" stroke-width="0.8"/>')
        parts.append(_text(_LEFT - 6, y(tick) + 4.5, f"{tick:g}", "end"))
    for tick in _x_ticks(last):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{_BOTTOM}" '
                     f'y2="{_BOTTOM + 3.5}" stroke="{_INK}" stroke-width="0.8"/>')
        parts.append(_text(x(tick), _BOTTOM + 17, f"{tick:g}"))
    parts.append('<g clip-path="url(#plot)" stroke-linejoin="round">')
    parts += _polylines(_thin(curve.student, curve.step), x, y, _STUDENT_STYLE)
    parts += _polylines(_thin(curve.reference, curve.step), x, y, _REFERENCE_STYLE)
    parts.append("</g>")
    parts.append(f'<rect x="{_LEFT}" y="{_TOP}" width="{_RIGHT - _LEFT}" '
                 f'height="{_BOTTOM - _TOP}" fill="none" stroke="{_INK}" stroke-width="0.8"/>')
    if off_chart:
        parts.append(_text(_LEFT + 12, _TOP + 20, "yours goes off the chart", "start", 13,
                           f'fill="{_BLUE}"'))
    legend_x, legend_y = _RIGHT - 180, _TOP + 8
    parts.append(f'<rect x="{legend_x}" y="{legend_y}" width="172" height="48" rx="3" '
                 f'fill="white" fill-opacity="0.9" stroke="#d0d7de" stroke-width="1"/>')
    for row, (label, style) in enumerate((("yours (solid)", _STUDENT_STYLE),
                                          ("reference (dashed)", _REFERENCE_STYLE))):
        row_y = legend_y + 16 + row * 18
        parts.append(f'<line x1="{legend_x + 8}" x2="{legend_x + 36}" y1="{row_y}" '
                     f'y2="{row_y}" {style}/>')
        parts.append(_text(legend_x + 42, row_y + 4.5, label, "start", 12))
    parts.append(_text((_LEFT + _RIGHT) / 2, _BOTTOM + 36, "epoch", size=13))
    parts.append(_text(20, (_TOP + _BOTTOM) / 2, "loss", size=13, extra=(
        f'transform="rotate(-90 20 {(_TOP + _BOTTOM) / 2:.1f})"')))
    parts.append(_text((_LEFT + _RIGHT) / 2, _TOP - 12, title, size=14))
    for row, line in enumerate(LOWER_NOTE_LINES if lower else ()):
        parts.append(_text(_LEFT, CURVE_HEIGHT - 10 + row * _NOTE_LINE, line, "start", 13,
                           f'fill="{_ORANGE}"'))
    parts.append("</svg>")
    svg = "".join(parts).encode("utf-8")
    alt = (f"Loss per epoch of {title}: yours ({len(curve.student)} points, solid) and the "
           f"reference's ({len(curve.reference)} points, dashed)"
           + (f". {LOWER_NOTE}" if lower else ""))
    return Picture("data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                   CURVE_WIDTH, height, alt)


def ends_lower(curve: Curve) -> bool:
    """Whether the student's last loss is clearly (1%) below the reference's last."""
    mine = next((v for v in reversed(curve.student) if v is not None), None)
    theirs = next((v for v in reversed(curve.reference) if v is not None), None)
    return mine is not None and theirs is not None and mine < theirs - 0.01 * abs(theirs)
