"""Pictures for the reports: score histograms and loss curves, as PNG ``data:`` URIs.

Drawn with matplotlib (the lecture's plotting library) through its object API and the Agg
canvas: no pyplot global state, no display, no file; every image is embedded, so each HTML
report stands alone with no network. Values are the grader's own numbers (scores, or floats
checked as finite before they get here), never text from a student.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Size of every picture in CSS pixels (drawn at 1.5 times that for sharper screens).
WIDTH, HEIGHT = 480, 240
_DPI = 100


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
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> str:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    figure.tight_layout()
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


def loss_curves(student: Sequence[float], reference: Sequence[float], title: str) -> Picture:
    """The student's loss per epoch beside the reference's (log scale when both are > 0)."""
    figure = _figure()
    axes = figure.add_subplot()
    epochs = range(1, max(len(student), len(reference)) + 1)
    axes.plot(list(epochs)[:len(reference)], reference, color="#1a7f37", lw=2,
              label="reference")
    finite = [v if math.isfinite(v) else math.nan for v in student]
    axes.plot(list(epochs)[:len(finite)], finite, color="#cf222e", lw=1.5, ls="--",
              marker="o" if len(finite) <= 30 else None, ms=3, label="yours")
    values = [v for v in [*finite, *reference] if math.isfinite(v)]
    if values and min(values) > 0 and max(values) / min(values) > 20:
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("training loss")
    axes.set_title(title, fontsize=10)
    axes.legend()
    alt = f"Training loss per epoch: yours and the reference's ({title})"
    return Picture(_png(figure), WIDTH, HEIGHT, alt)
