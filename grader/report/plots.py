"""Pictures for the reports: score histograms, as PNG ``data:`` URIs.

Drawn with matplotlib (the lecture's plotting library) through its object API and the Agg
canvas: no pyplot global state, no display, no file; every image is embedded, so each HTML
report stands alone with no network. Values are the grader's own numbers (scores, or floats
checked as finite before they get here), never text from a student.
"""

from __future__ import annotations

import base64
import io
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
