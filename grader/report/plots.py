"""Pictures for the reports: score histograms and loss curves, as PNG ``data:`` URIs.

Drawn with matplotlib (the lecture's plotting library) through its object API and the Agg
canvas: no pyplot global state, no display, no file; every image is embedded, so each HTML
report stands alone with no network. Cheap by design (reports are written one after another
in the grading process, so a feedback page's picture costs every submission): fixed margins
instead of ``tight_layout`` (which drew every figure twice), and plain tick labels on a log
axis ("0.01", not mathtext's 10^-2, whose parser cost more than the rest of the chart).
Values are the grader's own numbers (scores, or a curve's floats, bounded and finite or
None: grader.suite.make_curve), never text from a student.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from grader.results import Curve

#: Size of every picture in CSS pixels (drawn at 1.5 times that for sharper screens).
WIDTH, HEIGHT = 480, 240
_DPI = 100
#: Margins as fractions of the picture: room for tick labels up to about seven characters
#: ("0.0001", "1e+06"), the axis labels and the title.
_MARGINS = dict(left=0.17, right=0.95, bottom=0.19, top=0.9)


@dataclass(frozen=True)
class Picture:
    uri: str
    width: int
    height: int
    alt: str


def _figure():  # type: ignore[no-untyped-def]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI)
    figure.subplots_adjust(**_MARGINS)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> str:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=1.5 * _DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores: Sequence[float], max_score: float, title: str) -> Picture:
    """How many students scored in each tenth of ``max_score``."""
    top = max_score if max_score > 0 else 1.0
    bins = [top * i / 10 for i in range(11)]
    figure = _figure()
    axes = figure.add_subplot()
    axes.hist([min(max(s, 0.0), top) for s in scores], bins=bins, color="#0969da",
              edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_xlabel("score")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(title, fontsize=10)
    alt = f"Histogram of {len(scores)} scores out of {top:g} for {title}"
    return Picture(_png(figure), WIDTH, HEIGHT, alt)


#: A student's loss this many times the reference's largest is drawn off the chart.
_OFF_CHART = 100.0


def _plain_log_labels(axes, low: float, high: float) -> None:  # type: ignore[no-untyped-def]
    """Ticks of a log axis from ``low`` to ``high``: at 1, 2 and 5 times each power of ten over
    a short range (1 alone over more than a few decades), labelled "0.01" rather than in
    mathtext, and no minor ticks (each tick is an object matplotlib builds per draw: the minor
    ones cost more than the rest of the chart)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    subs = (1.0, 2.0, 5.0) if math.log10(high / low) <= 2.5 else (1.0,)
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    axes.yaxis.set_minor_locator(NullLocator())


def loss_curve(curve: Curve, title: str) -> Picture:
    """The student's curve (solid) beside the reference's (dashed) on one pair of axes, per
    epoch; a log scale where every value is positive (losses span decades); a value that was
    not finite is a gap."""
    figure = _figure()
    axes = figure.add_subplot()
    for values, label, style in ((curve.reference, "reference", dict(color="#59636e",
                                                                       linestyle="--")),
                                 (curve.student, "yours", dict(color="#0969da"))):
        epochs = [1 + index * curve.step for index in range(len(values))]
        axes.plot(epochs, [math.nan if v is None else v for v in values], label=label,
                  linewidth=1.6, **style)
    finite = [v for v in (*curve.student, *curve.reference) if v is not None]
    reference = [v for v in curve.reference if v is not None]
    off_chart = bool(reference) and max(finite) > _OFF_CHART * max(reference) > 0
    if finite and min(finite) > 0:
        axes.set_yscale("log")
        top = _OFF_CHART * max(reference) if off_chart else max(finite)
        _plain_log_labels(axes, min(finite), max(top, min(finite) * 1.01))
    if off_chart:
        # an exploding loss would flatten the reference into the axis: cut the chart above it
        axes.set_ylim(bottom=0.5 * min(finite) if min(finite) > 0 else None,
                      top=_OFF_CHART * max(reference))
        axes.text(0.1, 0.95, "yours goes off the chart", transform=axes.transAxes,
                  fontsize=9, color="#0969da", verticalalignment="top")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.legend(loc="upper right", fontsize=9)
    # a title at a fixed height: matplotlib otherwise measures every tick label to place it
    axes.set_title(title, fontsize=10, y=1.0)
    alt = (f"Loss per epoch of {title}: yours ({len(curve.student)} points, solid) and the "
           f"reference's ({len(curve.reference)} points, dashed)")
    return Picture(_png(figure), WIDTH, HEIGHT, alt)
