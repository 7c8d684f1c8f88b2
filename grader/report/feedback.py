"""Feedback grouped by function, as the templates show it: the words come from the one
feedback engine (grader.core.feedback, shared with Gradescope, push grading and the student's
self-check); this module turns them into escaped template values.

Which graded function uses which comes from the reference solution
(:func:`grader.report.calls.reference_calls`): the lecture's ``train`` calls ``forward``,
``backward`` and ``sgd_step``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grader.core.feedback import (
    SEE_BELOW,
    BrokenCell,
    Explained,
    Note,
    broken_cells,
    detail,
    explain,
    function_of,
    student_note,
    student_notes,
    verdict,
)
from grader.core.results import SKIPPED, TestResult
from grader.core.text import block, visible

__all__ = ["BrokenCell", "broken_cells", "curve_views", "function_of", "group_views",
           "note_views", "skipped_reason", "student_note"]


def _group_view(item: Explained, points: Any, test_view: Any) -> dict[str, Any]:
    return {"function": item.function, "kind": item.kind, "cause": visible(item.cause),
            "quote": block(item.quote), "lost": points(item.lost), "worth": points(item.worth),
            "brief": item.brief,
            # the failures unfolded only where they are the explanation: a cause that names
            # the mistake says it once, and five near-identical red failures under it hide it
            "unfold": item.kind == "wrong" and item.cause.endswith(SEE_BELOW),
            "tests": [{**test_view(t), "verdict": visible(verdict(t)),
                       "detail": block(detail(t, item.hint))} for t in item.failed]}


def group_views(tests: Sequence[TestResult], notes: Sequence[str],
                calls: Mapping[str, Sequence[str]], points: Any,
                test_view: Any) -> dict[str, Any]:
    """The feedback engine's explanation (grader.core.feedback.explain) as template values:
    failed functions first (own mistakes before knock-on ones), the functions not attempted
    yet in one line, then passed ones, then the skipped tests (neither passed nor failed)."""
    explanation = explain(tests, notes, calls)
    return {"notes": note_views(student_notes(notes, explanation)),
            "groups": [_group_view(i, points, test_view) for i in explanation.wrong],
            "not_attempted": visible(explanation.not_attempted_line),
            "passed_groups": [{"function": f, "tests": n, "points": points(w)}
                              for f, n, w in explanation.passed],
            "skipped": [test_view(t) for t in tests if t.status == SKIPPED]}


def note_views(notes: Sequence[Note]) -> list[dict[str, str]]:
    """Each note's line and quoted code, escaped for any output."""
    return [{"text": visible(note.text), "quote": block(note.quote)} for note in notes]


def skipped_reason(message: str) -> str:
    """Why a test did not run, for the student."""
    if "--device" in message or "GPU" in message or "cuda" in message:
        return "Not run: this check needs a GPU, and this grading run had none. Not counted."
    return f"Not run ({message.strip() or 'skipped'}). Not counted."


def _course(values: Sequence[float | None], step: int) -> str:
    """How a loss went: ``2.86 → 0.0186``, or where it stopped being a number."""
    if not values:
        return "not available"
    bad = next((i for i, v in enumerate(values) if v is None), None)
    first = "not a number" if values[0] is None else f"{values[0]:.4g}"
    if bad is not None:
        return f"{first} → not a finite number from epoch {1 + bad * step} on"
    return f"{first} → {values[-1]:.4g}"


def curve_views(tests: Sequence[TestResult], draw: Any) -> list[dict[str, Any]]:
    """Each recorded curve: its function, caption, one-line course and (``draw``: a picture
    of it, or None where the caller draws none) its picture."""
    views = []
    for test in tests:
        for curve in test.curves:
            epochs = max(len(curve.student), len(curve.reference)) * curve.step
            views.append({
                "function": function_of(test),
                "name": visible(curve.name),
                "line": (f"yours {_course(curve.student, curve.step)}; the reference's "
                         f"{_course(curve.reference, curve.step)} ({epochs} epochs)"),
                "picture": draw(curve, function_of(test)) if draw else None,
            })
    return views
