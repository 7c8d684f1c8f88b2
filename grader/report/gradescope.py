"""Gradescope's results.json for one (student, assignment).

Gradescope knows only two test statuses, ``passed`` and ``failed``; our richer status (timed
out, crashed, not attempted, ...) is kept in each test's ``output`` and ``extra_data``.
A skipped test (a GPU check on a CPU run) is neither: its entry has no ``status`` field and
``max_score`` 0 (those checks are worth nothing), so Gradescope, which colours a test by
``score`` against ``max_score`` when ``status`` is absent, shows it neutrally, and its output
says why it did not run. The submission's ``score`` is the sum of its tests' scores, so
Gradescope's total and ours agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from grader.core.feedback import Explained, by_test, explain, student_notes, test_plain
from grader.core.results import PASSED, SKIPPED, ManualGrade, SubmissionResult, TestResult
from grader.core.text import block, md_code, md_fence, md_text
from grader.core.visibility import VISIBLE, Shown, Visibility, split
from grader.report.late import late_line, record_lines
from grader.report.view import file_name, points, submission_status

GS_PASSED = "passed"
GS_FAILED = "failed"


def gradescope_status(status: str) -> str:
    """Our test status in Gradescope's vocabulary."""
    return GS_PASSED if status == PASSED else GS_FAILED


def _test_entry(test: TestResult, item: Explained | None = None,
                visibility: str = VISIBLE) -> dict[str, Any]:
    message = block(test.message)
    if test.status == SKIPPED:
        return _skipped_entry(test, message)
    output = message if test.status == PASSED else block(test_plain(test, item))
    return {
        "name": test.description or test.name,
        "score": round(test.score, 6),
        "max_score": round(test.max_score, 6),
        "status": gradescope_status(test.status),
        "output": output.strip(),
        "output_format": "text",
        "visibility": visibility,
        "extra_data": {"id": test.name, "status": test.status, "seed": test.seed,
                       "duration_s": test.duration_s},
    }


def _skipped_entry(test: TestResult, message: str) -> dict[str, Any]:
    """A test that did not run: no ``status`` and max_score 0, so neither passed nor failed."""
    why = message.strip() or "it does not run on this grading machine"
    return {
        "name": test.description or test.name,
        "score": 0.0,
        "max_score": 0.0,
        "output": f"Skipped, not counted either way: {why}",
        "output_format": "text",
        "visibility": "visible",
        "extra_data": {"id": test.name, "status": test.status, "seed": test.seed,
                       "duration_s": test.duration_s, "worth": round(test.max_score, 6)},
    }


def _manual_entry(grade: ManualGrade) -> dict[str, Any]:
    """A written question: pending ones have no score and no status (shown as pending)."""
    lines = [f"{'+' if p > 0 else ''}{points(p)}: {label}" for label, p in grade.items]
    if grade.comment:
        lines.append(f"Comment: {grade.comment}")
    entry: dict[str, Any] = {
        "name": f"Written question {grade.question}",
        "max_score": round(grade.max_score, 6),
        "output": ("Pending: not graded yet" if grade.pending else
                   "\n".join(lines) or ("No answer handed in" if not grade.answered else "")),
        "output_format": "text",
        "visibility": "visible",
        "extra_data": {"id": f"written:{grade.question}",
                       "status": "pending" if grade.pending else "graded"},
    }
    if not grade.pending:
        entry["score"] = round(grade.score or 0.0, 6)
    return entry


def _overview(result: SubmissionResult,
              calls: Mapping[str, Sequence[str]] | None = None,
              shown: Shown | None = None) -> str:
    """The submission-level ``output`` (Markdown): what was graded and any remarks."""
    if result.missing:
        return md_text(result.error or "No notebook was handed in for this assignment.")
    shown = shown or Shown(result.tests)
    if shown.held:
        lines = [f"Graded file: {md_code(file_name(result.path))}. {shown.score_line()} "
                 f"{shown.held_line()}"]
    else:
        lines = [f"Graded file: {md_code(file_name(result.path))} ({points(result.score)} / "
                 f"{points(result.max_score)} points)."]
    lines.extend(md_text(line[:1].upper() + line[1:]) + "."
                 for line in record_lines(result.grade))
    if result.other_attempts:
        others = ", ".join(f"{md_code(file_name(a.path))} ({points(a.score)})"
                           for a in result.other_attempts)
        lines.append(f"You handed in several notebooks; the best one counts. Others: {others}.")
    if result.error:
        what = ("The grader failed on your notebook (not your code)" if result.grader_error
                else "Your notebook could not be read")
        lines.append(f"**{what}:** {md_text(result.error)}")
    explanation = explain(shown.tests, result.notes, calls)
    for note in student_notes(result.notes, explanation):
        lines.append(f"- {md_text(note.text)}" + (f"\n\n{_fenced(block(note.quote))}"
                                                  if note.quote else ""))
    if explanation.not_attempted_line:
        lines.append(md_text(explanation.not_attempted_line))
    return "\n\n".join(lines)


def _fenced(text: str) -> str:
    fence = md_fence(text)
    return f"{fence}\n{text}\n{fence}"


def results_json(result: SubmissionResult,
                 calls: Mapping[str, Sequence[str]] | None = None,
                 visibility: Visibility | None = None) -> dict[str, Any]:
    """The results.json document (a dict ready for ``json.dumps``); ``calls`` names knock-on
    failures (grader.report.calls), as in the feedback page; ``visibility`` sets each test's
    (Gradescope shows public tests at once, the others when their visibility says) and the
    always-visible output says the score so far and what is still hidden."""
    explained = by_test(explain(result.tests, result.notes, calls))
    rule = visibility or Visibility()
    return {
        "score": result.score,
        "max_score": round(result.max_score, 6),
        "execution_time": round(result.duration_s, 3),
        "output": _overview(result, calls, split(result.tests, result.assignment, visibility)),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [_test_entry(test, explained.get(test.name),
                              rule.of(result.assignment, test.name)) for test in result.tests]
        + [_manual_entry(m) for m in result.manual],
        "extra_data": {
            "student": result.student,
            "assignment": result.assignment,
            "status": submission_status(result),
            "grader_version": result.grader_version,
            "suite_hash": result.suite_hash,
            "seed": result.seed,
            "sandbox": result.sandbox,
            "device": result.device,
            "file": result.path,
            "matched_by": result.matched_by,
            "notes": list(result.notes),
            "error": result.error,
            "other_attempts": [{"file": a.path, "score": a.score}
                               for a in result.other_attempts],
            **grade_data(result),
        },
    }


def grade_data(result: SubmissionResult) -> dict[str, Any]:
    """The grade of record for ``extra_data`` (nothing when there is none): ``raw_score``,
    ``late_penalty``, ``final_score`` (= ``score``), the late line and the whole record."""
    if result.grade is None:
        return {}
    return {"raw_score": result.grade.raw_score, "late_penalty": result.grade.late_penalty,
            "final_score": result.grade.final_score,
            "late": late_line(result.grade, not result.missing),
            "grade_of_record": asdict(result.grade)}
