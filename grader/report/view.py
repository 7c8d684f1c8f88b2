"""View models: plain results turned into the plain values the templates print.

Everything a template shows is computed here (statuses, points as text, pass rates, medians,
truncation), so templates stay loops and ifs, and the runner stays free of formatting.
Student-controlled text leaves here with its control characters escaped (grader.core.text:
names and one-line texts through ``visible``, messages and output through ``block``); the
Markdown templates escape Markdown on top (``md_text``, ``md_code`` filters), the HTML ones are
autoescaped.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from grader.core.results import (
    NOTHING_HANDED_IN,
    PASSED,
    SKIPPED,
    ManualGrade,
    RunResult,
    SubmissionResult,
    TestResult,
)
from grader.core.roster import RosterEntry
from grader.core.text import block, visible
from grader.core.visibility import Shown
from grader.report.feedback import curve_views, group_views, skipped_reason
from grader.report.late import record_lines
from grader.report.plots import loss_curve
from grader.report.summary import THRESHOLD, grid, histogram, struggles, test_rates

# Submission statuses (one per grades.csv row).
GRADED = "graded"
MISSING = "missing"
UNREADABLE = "unreadable"
GRADER_ERROR = "error"  # the grader failed on it: no score (SubmissionResult.grader_error)

#: Characters of the student's captured output shown in a feedback report.
OUTPUT_LIMIT = 5000


def points(value: float) -> str:
    """A score as people write it: ``3``, ``2.5``, ``33.33``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def percent(part: int, whole: int) -> str:
    """``2, 3`` -> ``67%``; ``-`` when there is nothing to divide by."""
    return f"{round(100 * part / whole)}%" if whole else "-"


def submission_status(result: SubmissionResult) -> str:
    """graded / missing / unreadable / error: what became of the (student, assignment)."""
    if result.grader_error:
        return GRADER_ERROR
    if result.missing:
        return MISSING
    if result.error:
        return UNREADABLE
    return GRADED


def css_class(status: str) -> str:
    """A status as a CSS class name: ``timed out`` -> ``st-timed-out``."""
    return "st-" + "-".join(status.split())


def file_name(path: str | None) -> str:
    """The file's name, visible (a name may hold any character but ``/``)."""
    return visible(PurePath(path).name) if path else ""


def truncate(text: str, limit: int = OUTPUT_LIMIT) -> tuple[str, int]:
    """The first ``limit`` characters of ``text`` and how many were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def attempts_text(result: SubmissionResult) -> str:
    """Other notebooks for the same assignment, for one CSV cell."""
    return "; ".join(f"{visible(a.path)} ({points(a.score)})" for a in result.other_attempts)


def _test_view(test: TestResult) -> dict[str, Any]:
    skipped = test.status == SKIPPED
    return {
        "id": test.name,
        "description": test.description or test.name,
        "status": "skipped (not counted)" if skipped else test.status,
        "passed": test.status == PASSED,
        "skipped": skipped,
        "css": css_class(test.status),
        "points": "-" if skipped else f"{points(test.score)} / {points(test.max_score)}",
        "message": skipped_reason(test.message) if skipped else block(test.message),
    }


def feedback_view(result: SubmissionResult, title: str = "",
                  output_limit: int = OUTPUT_LIMIT,
                  calls: Mapping[str, Sequence[str]] | None = None,
                  pictures: bool = True, shown: Shown | None = None) -> dict[str, Any]:
    """Everything feedback.md.j2 and feedback.html.j2 show for one (student, assignment).

    ``calls``: which graded functions each one uses (grader.report.calls), for knock-on
    failures. ``pictures``: draw the loss curves the tests recorded (only the HTML shows
    them; the Markdown has a line each). ``shown``: the tests the student sees now
    (grader.core.visibility.split); the others are only counted ("Still hidden: ...")."""
    seen = shown or Shown(result.tests)
    visible_tests = seen.tests
    tests = [_test_view(test) for test in visible_tests]
    grouped = group_views(visible_tests, result.notes, calls or {}, points, _test_view)
    curves = curve_views(visible_tests, loss_curve if pictures else None)
    for group in grouped["groups"]:  # a failed function's curve goes with its cause line
        group["curves"] = [c for c in curves if c["function"] == group["function"]]
    shown = {c["function"] for g in grouped["groups"] for c in g["curves"]}
    output, output_cut = truncate(block(result.output.rstrip()), output_limit)
    attempts = [{"file": file_name(a.path), "score": points(a.score)}
                for a in result.other_attempts]
    return {
        "student": visible(result.student),
        "assignment": result.assignment,
        "title": title or result.assignment,
        "status": submission_status(result),
        "missing": result.missing,
        # a file in the wrong format (grader.run.grading.wrong_format): what to hand in
        "wrong_format": visible(result.error) if result.missing and result.error
        and result.error != NOTHING_HANDED_IN else "",
        "score": points(seen.score if seen.held else result.score),
        "max_score": points(seen.worth if seen.held else result.max_score),
        "score_line": seen.score_line(),
        "held": seen.held_line(),
        "score_note": score_note(result),
        "deadline": record_lines(result.grade, not result.missing),
        "file": file_name(result.path),
        "other_attempts": attempts,
        "error": visible(result.error or ""),
        "tests": tests,
        "passed_count": sum(1 for t in tests if t["passed"]),
        "counted_count": sum(1 for t in tests if not t["skipped"]),
        "skipped_count": sum(1 for t in tests if t["skipped"]),
        **grouped,
        "curves": [c for c in curves if c["function"] not in shown],
        "written": [_written_view(m) for m in result.manual],
        "output": output,
        "output_cut": output_cut,
        "grader_version": result.grader_version,
        "suite_hash": result.suite_hash,
        "seed": result.seed,
        "sandbox": result.sandbox,
        "device": result.device,
    }


def _written_view(grade: ManualGrade) -> dict[str, Any]:
    """A written question in the feedback: its score or "pending", rubric items, comment."""
    return {
        "question": grade.question,
        "prompt": visible(grade.prompt),
        "max_score": points(grade.max_score),
        "score": "pending" if grade.score is None else points(grade.score),
        "pending": grade.pending,
        "answered": grade.answered,
        "rubric": [{"label": visible(label), "points": ("+" if p > 0 else "") + points(p)}
                  for label, p in grade.items],
        "comment": visible(grade.comment),
    }


def score_note(result: SubmissionResult) -> str:
    """``autograde 80, late penalty -8`` when the score of record is not the autograde."""
    record = result.grade
    if record is None or record.final_score == record.raw_score:
        return ""
    parts = [f"autograde {points(record.raw_score)}"]
    if record.late_penalty:
        parts.append(f"late penalty -{points(record.late_penalty)}")
    if record.override is not None:
        parts.append(f"set to {points(record.override.points)} by an override")
    return ", ".join(parts)


def pass_rates(results: Iterable[SubmissionResult]) -> list[dict[str, Any]]:
    """Each test's pass rate among the graded submissions that attempted it, hardest first
    (grader.report.summary.test_rates)."""
    return test_rates(results, lambda r: submission_status(r) == GRADED)


def assignment_order(results: Iterable[SubmissionResult]) -> list[str]:
    """Assignment ids in the order the run lists them (the course's order)."""
    return list(dict.fromkeys(result.assignment for result in results))


def _assignment_view(assignment: str, results: list[SubmissionResult],
                     title: str, pictures: bool = True, students: int = 0,
                     calls: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """``students``: how many the grid lists (a roster student with no folder at all is
    missing here too)."""
    handed_in = [r.score for r in results if not r.missing]
    finite = [s for s in handed_in if math.isfinite(s)]  # a mean of inf and -inf is no number
    statuses = [submission_status(r) for r in results]
    absent = max(0, students - len(results))
    return {
        "id": assignment,
        "title": title or assignment,
        "students": len(results) + absent,
        "handed_in": len(handed_in),
        "graded": statuses.count(GRADED),
        "missing": statuses.count(MISSING) + absent,
        "unreadable": statuses.count(UNREADABLE),
        "errors": statuses.count(GRADER_ERROR),
        "max_score": points(max((r.max_score for r in results), default=0.0)),
        "mean": points(_mean(finite)) if finite else "-",
        "median": points(statistics.median(finite)) if finite else "-",
        "tests": pass_rates(results),
        "struggles": struggles(results, calls or {}, lambda r: submission_status(r) == GRADED),
        "histogram": histogram(handed_in, max((r.max_score for r in results), default=100.0),
                               title or assignment)
        if pictures and len(handed_in) > 1 else None,
    }


def _mean(values: Sequence[float]) -> float:
    """The mean of finite scores, also where their sum is not finite (two scores of 1e308)."""
    try:
        return statistics.fmean(values)
    except OverflowError:
        return math.fsum(value / len(values) for value in values)


def summary_view(run: RunResult, titles: Mapping[str, str] | None = None,
                 roster: Sequence[RosterEntry] = (), pictures: bool = True,
                 calls: Mapping[str, Mapping[str, Sequence[str]]] | None = None
                 ) -> dict[str, Any]:
    """Everything summary.md.j2 and summary.html.j2 show for a whole run (``pictures``:
    draw the histograms, which only the HTML shows; ``calls``: per assignment, which graded
    function uses which, to name knock-on failures)."""
    titles = titles or {}
    calls = calls or {}
    order = assignment_order(run.results)
    rows = grid(run.results, order, roster, lambda r: r.missing, submission_status)
    assignments = [
        _assignment_view(a, [r for r in run.results if r.assignment == a], titles.get(a, ""),
                         pictures, len(rows), calls.get(a, {}))
        for a in order
    ]
    return {
        "assignments": assignments,
        "columns": [{"id": a, "title": titles.get(a, "") or a} for a in order],
        "grid": rows,
        "attention": sum(1 for row in rows if row["attention"]),
        "threshold": round(100 * THRESHOLD),
        "with_roster": bool(roster),
        "students": len(rows),
        "unrecognized": [{"path": visible(path), "reason": visible(reason)}
                         for path, reason in run.unrecognized],
        "sandbox": run.sandbox or next((r.sandbox for r in run.results if r.sandbox), "unknown"),
        "duration": points(run.duration_s),
    }
