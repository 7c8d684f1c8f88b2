"""similarity.csv and similarity.html, for the instructor only.

Student ids and file names come from the submissions folder, so they are hostile text: in the
CSV a cell that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-``, ``@``, tab
or carriage return) gets a leading ``'`` (OWASP's CSV injection advice); the HTML is rendered
by an autoescaping Jinja2 template, code included. ``grade release`` refuses to ship a file
holding ``REPORT_MARKER`` (in the HTML) or starting with ``CSV_HEADER`` (grader.similarity).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path

from grader.core.errors import CourseError
from grader.core.text import csv_cell
from grader.similarity import CSV_COLUMNS, REPORT_MARKER
from grader.similarity.analyse import (
    BIN_WIDTH,
    MIN_COMMON,
    AssignmentSimilarity,
    ShownPair,
    Side,
)

TEMPLATE = "similarity.html.j2"
#: Histogram drawing, in SVG user units.
_BAR_WIDTH, _BAR_GAP, _PLOT_HEIGHT = 26, 4, 120


def similarity_csv(results: Sequence[AssignmentSimilarity]) -> str:
    """Every pair of every assignment, best first within an assignment."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    safe: dict[str, str] = {}  # names and files recur in every row: neutralise each once

    def text(value: str) -> str:
        if value not in safe:
            safe[value] = csv_cell(value)
        return safe[value]

    for result in results:  # the numbers are the grader's own, never negative
        for rank, p in enumerate(result.pairs, 1):
            writer.writerow((text(result.assignment), text(p.student_a), text(p.student_b),
                             p.score, rank, p.share_a, p.share_b, p.lines_a, p.lines_b,
                             text(p.file_a), text(p.file_b)))
    return buffer.getvalue()


def histogram_view(counts: Sequence[int]) -> dict[str, object]:
    """Bars for the template's inline SVG: log-scaled heights, so one outlier pair among
    100,000 still shows."""
    top = math.log10(max(counts, default=0) + 1) or 1.0
    bars = []
    for i, count in enumerate(counts):
        height = round(_PLOT_HEIGHT * math.log10(count + 1) / top, 1) if count else 0
        low = i * BIN_WIDTH
        bars.append({"x": i * (_BAR_WIDTH + _BAR_GAP), "height": height,
                     "y": _PLOT_HEIGHT - height, "count": count, "label": _short(count),
                     "low": low,
                     "high": low + BIN_WIDTH, "hot": low >= 50})
    return {"bars": bars, "width": len(counts) * (_BAR_WIDTH + _BAR_GAP),
            "plot_height": _PLOT_HEIGHT, "bar_width": _BAR_WIDTH,
            "ticks": [{"x": i * (_BAR_WIDTH + _BAR_GAP), "label": i * BIN_WIDTH}
                      for i in range(0, len(counts) + 1, 4)]}


def _short(count: int) -> str:
    """A count that fits above a bar: 683, 3.1k, 16k (the exact one is the bar's tooltip)."""
    if count < 1000:
        return str(count)
    return f"{count / 1000:.1f}k" if count < 10_000 else f"{count // 1000}k"


_DEFINITION = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)")


def shared_by_function(side: Side) -> tuple[int, int, list[str]]:
    """(lines with shared code, lines of code, the top-level functions those lines are in,
    in the order the code shows them)."""
    shared = total = 0
    where: dict[str, None] = {}
    current = "top-level code"
    for line in side.lines:
        text = "".join(piece for piece, _ in line)
        found = _DEFINITION.match(text)
        if found:
            current = found.group(1)
        elif text and not text[0].isspace() and text.strip():
            current = "top-level code"
        if not text.strip():
            continue
        total += 1
        if any(flag and piece.strip() for piece, flag in line):
            shared += 1
            where[current] = None
    return shared, total, list(where)


def explain(shown: ShownPair) -> str:
    """Why a pair scores what it does, in one sentence: how many lines, which functions."""
    parts = []
    for side in (shown.a, shown.b):
        shared, total, functions = shared_by_function(side)
        parts.append(f"{shared} of {side.student}'s {total} lines"
                     + (f" (in {', '.join(functions)})" if functions else ""))
    return (f"{shown.pair.score}%: shared code covers {parts[0]} and {parts[1]}; the score is "
            "the larger of the two shares.")


def similarity_html(results: Sequence[AssignmentSimilarity], templates_dir: Path,
                    unrecognized: Sequence[tuple[str, str]]) -> str:
    """The HTML report: per assignment a histogram, the top pairs, each pair side by side."""
    from grader.report.write import make_environment

    env = make_environment(templates_dir)
    try:
        template = env.get_template(TEMPLATE)
    except Exception as exc:  # jinja2's TemplateNotFound / TemplateSyntaxError
        raise CourseError(f"{templates_dir / TEMPLATE}: cannot be loaded: {exc}") from exc
    assignments = [{"result": r, "histogram": histogram_view(r.histogram),
                    "pair_count": len(r.pairs),
                    "why": {s.rank: explain(s) for s in r.shown}} for r in results]
    return template.render(marker=REPORT_MARKER, assignments=assignments, bin_width=BIN_WIDTH,
                           min_common=MIN_COMMON,
                           unrecognized=[{"path": p, "reason": why} for p, why in unrecognized])
