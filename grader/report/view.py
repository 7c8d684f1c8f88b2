"""View models: plain results turned into the plain values the templates print.

Everything a template shows is computed here (statuses, points as text, pass rates, medians,
truncation), so templates stay loops and ifs, and the runner stays free of formatting.
Student-controlled text leaves here with its control characters escaped (grader.report.safe:
names and one-line texts through ``visible``, messages and output through ``block``); the
Markdown templates escape Markdown on top (``md_text``, ``md_code`` filters), the HTML ones are
autoescaped.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from grader.report.safe import block, visible
from grader.results import PASSED, RunResult, SubmissionResult, TestResult

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
    return {
        "id": test.name,
        "description": test.description or test.name,
        "status": test.status,
        "passed": test.status == PASSED,
        "css": css_class(test.status),
        "points": f"{points(test.score)} / {points(test.max_score)}",
        "message": block(test.message),
    }


def feedback_view(result: SubmissionResult, title: str = "",
                  output_limit: int = OUTPUT_LIMIT) -> dict[str, Any]:
    """Everything feedback.md.j2 and feedback.html.j2 show for one (student, assignment)."""
    tests = [_test_view(test) for test in result.tests]
    output, output_cut = truncate(block(result.output.rstrip()), output_limit)
    attempts = [{"file": file_name(a.path), "score": points(a.score)}
                for a in result.other_attempts]
    return {
        "student": visible(result.student),
        "assignment": result.assignment,
        "title": title or result.assignment,
        "status": submission_status(result),
        "missing": result.missing,
        "score": points(result.score),
        "max_score": points(result.max_score),
        "file": file_name(result.path),
        "other_attempts": attempts,
        "error": visible(result.error or ""),
        "notes": [visible(note) for note in result.notes],
        "tests": tests,
        "passed_count": sum(1 for t in tests if t["passed"]),
        "problems": [t for t in tests if not t["passed"]],
        "output": output,
        "output_cut": output_cut,
        "grader_version": result.grader_version,
        "suite_hash": result.suite_hash,
        "seed": result.seed,
        "sandbox": result.sandbox,
        "device": result.device,
    }


@dataclass
class _TestTally:
    description: str
    passed: int = 0
    total: int = 0


def pass_rates(results: Iterable[SubmissionResult]) -> list[dict[str, Any]]:
    """Each test's pass rate among the graded submissions, hardest first."""
    tallies: dict[str, _TestTally] = {}
    for result in results:
        if submission_status(result) != GRADED:
            continue
        for test in result.tests:
            tally = tallies.setdefault(test.name, _TestTally(test.description or test.name))
            tally.total += 1
            tally.passed += test.status == PASSED
    ordered = sorted(tallies.items(), key=lambda kv: (kv[1].passed / kv[1].total, kv[0]))
    return [{"id": name, "description": t.description, "passed": t.passed, "total": t.total,
             "rate": percent(t.passed, t.total),
             "width": round(100 * t.passed / t.total)} for name, t in ordered]


def assignment_order(results: Iterable[SubmissionResult]) -> list[str]:
    """Assignment ids in the order the run lists them (the course's order)."""
    return list(dict.fromkeys(result.assignment for result in results))


def _assignment_view(assignment: str, results: list[SubmissionResult],
                     title: str) -> dict[str, Any]:
    handed_in = [r.score for r in results if not r.missing]
    statuses = [submission_status(r) for r in results]
    return {
        "id": assignment,
        "title": title or assignment,
        "students": len(results),
        "handed_in": len(handed_in),
        "graded": statuses.count(GRADED),
        "missing": statuses.count(MISSING),
        "unreadable": statuses.count(UNREADABLE),
        "errors": statuses.count(GRADER_ERROR),
        "max_score": points(max((r.max_score for r in results), default=0.0)),
        "mean": points(statistics.fmean(handed_in)) if handed_in else "-",
        "median": points(statistics.median(handed_in)) if handed_in else "-",
        "tests": pass_rates(results),
    }


def summary_view(run: RunResult, titles: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything summary.md.j2 and summary.html.j2 show for a whole run."""
    titles = titles or {}
    assignments = [
        _assignment_view(a, [r for r in run.results if r.assignment == a], titles.get(a, ""))
        for a in assignment_order(run.results)
    ]
    return {
        "assignments": assignments,
        "students": len({r.student for r in run.results}),
        "unrecognized": [{"path": visible(path), "reason": visible(reason)}
                         for path, reason in run.unrecognized],
        "sandbox": run.sandbox or next((r.sandbox for r in run.results if r.sandbox), "unknown"),
        "duration": points(run.duration_s),
    }
