"""Gradescope's results.json for one upload: every chosen assignment's tests, and an overview.

Follows Gradescope's autograder specification ("Output format"): top-level ``score``,
``execution_time``, ``output`` (+ ``output_format``), ``visibility``, ``stdout_visibility``,
``extra_data`` and ``tests``, each test with ``name``, ``score``, ``max_score``,
``status`` (passed/failed), ``output`` (+ ``output_format``), ``visibility`` and
``extra_data``. The per-test values come from grader.report.gradescope (the results.json
``grade`` writes per submission), so both say the same thing.

Per assignment, one always-visible entry without points ("<title>: your notebook") says which
file was graded and what the grader noticed about it; the hidden suite's tests carry the
visibility chosen at build time (by default their details, and so the total, are shown after
the due date). Everything a student controls (file names, messages) is escaped for Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grader.core.feedback import (
    Explained,
    bounded,
    by_test,
    explain,
    student_notes,
    test_feedback,
)
from grader.core.results import PASSED, RunResult, SubmissionResult, TestResult, grader_failed
from grader.core.visibility import Visibility, split
from grader.integrations.gradescope.config import AutograderConfig
from grader.report.gradescope import GS_FAILED, GS_PASSED, results_json
from grader.report.late import record_lines
from grader.report.view import OUTPUT_LIMIT, file_name, points, truncate
from grader.report.write import md_fence

MD = "md"
_MD_PUNCTUATION = set("\\`*_{}[]<>()#+-.!|~&")
STAFF = "please tell the course staff"


def md_text(text: object) -> str:
    """Student-controlled text as one line of plain Markdown (every mark escaped)."""
    line = " ".join(str(text).split())
    line = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in line)
    return "".join(f"\\{c}" if c in _MD_PUNCTUATION else c for c in line)


def md_code(text: object) -> str:
    """Student-controlled text (a file name) as an inline code span."""
    line = " ".join(str(text).split())
    line = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in line)
    longest = run = 0
    for char in line:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    ticks = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") or not line else ""
    return f"{ticks}{pad}{line}{pad}{ticks}"


def fenced(text: str) -> str:
    fence = md_fence(text)
    return f"{fence}\n{text}\n{fence}"


@dataclass(frozen=True)
class Upload:
    """What run_autograder graded: the student, the grading run, and files it did not grade."""

    student: str
    run: RunResult
    not_graded: tuple[tuple[str, str], ...] = ()


def test_output(test: TestResult, item: Explained | None = None) -> str:
    """One test's feedback (Markdown), in the feedback engine's words: a failed test leads with
    its function's cause line (grader.core.feedback.test_feedback), then what failed."""
    if test.status == PASSED:
        return "Passed."
    cause, quote, said, more = test_feedback(test, item)
    parts = [f"**{md_text(cause)}**" if cause else "", fenced(quote) if quote else "",
             f"Result: {md_text(said)}", fenced(more) if more else ""]
    return bounded("\n\n".join(part for part in parts if part), test.message)


def notebook_output(result: SubmissionResult, show_points: bool) -> str:
    """The always-visible overview of one assignment: file, other attempts, notes."""
    if result.missing:
        return ("No notebook for this assignment was found in your upload. Upload the "
                "`.ipynb` (or `.py`) file: its name should contain "
                f"{md_code(result.assignment)}, or keep the metadata of the notebook you "
                "were given.")
    score = f" ({points(result.score)} / {points(result.max_score)} points)" if show_points \
        else ""
    lines = [f"Graded file: {md_code(file_name(result.path))}{score}."]
    lines.extend(f"{md_text(line[:1].upper() + line[1:])}."
                 for line in record_lines(result.grade))
    if result.other_attempts:
        others = ", ".join(
            md_code(file_name(a.path)) + (f" ({points(a.score)})" if show_points else "")
            for a in result.other_attempts)
        lines.append("You uploaded several notebooks for this assignment; each was graded "
                     f"and the best one counts. The others: {others}.")
    if grader_failed(result):
        lines.append(f"**The grader failed on this assignment**: this is not your grade; "
                     f"{STAFF}.")
    elif result.error:
        lines.append(f"**Your notebook could not be read:** {md_text(result.error)}")
    explanation = explain(result.tests, result.notes)
    notes = student_notes(result.notes, explanation)
    if notes:
        lines.append("\n".join(f"- {md_text(n.text)}" + (f"\n\n{fenced(n.quote)}\n"
                                                          if n.quote else "") for n in notes))
    if explanation.not_attempted_line:
        lines.append(md_text(explanation.not_attempted_line))
    output, cut = truncate(result.output.rstrip(), OUTPUT_LIMIT)
    if show_points and output:
        more = f"\n\n({cut} more characters not shown.)" if cut else ""
        lines.append(f"Output of your code:\n\n{fenced(output)}{more}")
    return "\n\n".join(lines)


def effective(config: AutograderConfig, visibility: Visibility | None) -> Visibility:
    """The course's visibility (course.toml) where it sets one, else the build's
    ``--test-visibility`` for every test; the course's due dates either way."""
    if visibility is not None and visibility.configured:
        return visibility
    return Visibility(config.test_visibility, (), visibility.due if visibility else {})


def assignment_entries(result: SubmissionResult, title: str, config: AutograderConfig,
                       visibility: Visibility | None = None) -> list[dict[str, Any]]:
    """The overview entry and one entry per hidden test of one assignment: each test with
    its own visibility (public tests at once, with their cause lines and points), the
    overview (always visible) with the score so far and what is still hidden."""
    rule = effective(config, visibility)
    document = results_json(result, visibility=rule)
    shown = split(result.tests, result.assignment, rule)
    show_points = not shown.held
    readable = not result.missing and not result.error and not grader_failed(result)
    entries: list[dict[str, Any]] = [{
        "name": f"{title}: your notebook",
        "status": GS_PASSED if readable else GS_FAILED,
        "output": notebook_output(result, show_points)
        + (f"\n\n{md_text(shown.score_line())} {md_text(shown.held_line())}"
           if shown.held else ""),
        "output_format": MD,
        "visibility": "visible",
        "extra_data": {"assignment": result.assignment, "kind": "notebook"},
    }]
    explained = by_test(explain(result.tests, result.notes))
    for entry, test in zip(document["tests"], result.tests, strict=True):
        entries.append({
            **entry,
            "name": f"{title}: {entry['name']}",
            "output": test_output(test, explained.get(test.name)),
            "output_format": MD,
            "visibility": rule.of(result.assignment, test.name),
            "extra_data": {**entry["extra_data"], "assignment": result.assignment},
        })
    return entries


def overview(upload: Upload, results: Sequence[SubmissionResult], titles: Mapping[str, str],
             config: AutograderConfig, visibility: Visibility | None = None) -> str:
    """The submission-level ``output``: what was graded as whom, and what was not graded."""
    graded = [f"- {md_text(titles.get(r.assignment, r.assignment))}: "
              + (md_code(file_name(r.path)) if r.path else "no notebook found")
              for r in results]
    lines = [f"Graded as {md_code(upload.student)}:", "\n".join(graded)]
    rule = effective(config, visibility)
    for r in results:
        shown = split(r.tests, r.assignment, rule)
        if shown.held:
            lines.append(f"{md_text(titles.get(r.assignment, r.assignment))}: "
                         f"{md_text(shown.score_line())} {md_text(shown.held_line())}")
    if upload.not_graded:
        lines.append("Not graded:\n\n" + "\n".join(
            f"- {md_code(path)}: {md_text(reason)}" for path, reason in upload.not_graded))
    failed = [r.assignment for r in results if grader_failed(r)]
    if failed:
        lines.append(f"**The grader failed on {md_text(', '.join(failed))}**: the points shown "
                     f"there are not your grade; {STAFF}.")
    return "\n\n".join(lines)


def results_document(upload: Upload, titles: Mapping[str, str], config: AutograderConfig,
                     visibility: Visibility | None = None) -> dict[str, Any]:
    """The whole results.json for one upload (``visibility``: the course's, per test)."""
    order = {a: i for i, a in enumerate(config.assignments)}
    results = sorted(upload.run.results, key=lambda r: order.get(r.assignment, len(order)))
    # No "number": Gradescope then numbers the tests in this order.
    tests = [entry for result in results
             for entry in assignment_entries(result, titles.get(result.assignment,
                                                                result.assignment), config,
                                        visibility)]
    return {
        "score": round(sum(r.score for r in results), 6),
        "execution_time": round(upload.run.duration_s, 3),
        "output": overview(upload, results, titles, config, visibility),
        "output_format": MD,
        "visibility": "visible",
        "stdout_visibility": config.stdout_visibility,
        "tests": tests,
        "extra_data": {
            "student": upload.student,
            "grader_version": config.grader_version,
            "sandbox": upload.run.sandbox,
            "grader_failed": any(grader_failed(r) for r in results),
            "assignments": {r.assignment: results_json(r)["extra_data"] for r in results},
            "not_graded": [{"file": path, "reason": reason}
                           for path, reason in upload.not_graded],
        },
    }


def failure_document(error: str, grader_version: str, stdout_visibility: str = "hidden"
                     ) -> dict[str, Any]:
    """results.json when the grader itself failed: a 0 that says it is not a grade.

    Gradescope requires a score (top-level or per test), so the document carries 0; its
    visible output and ``extra_data.grader_failed`` say that nothing was graded.
    """
    message = ("**The grader failed before it could grade your submission**, so nothing was "
               f"graded. This 0 is not your grade: {STAFF}, who can see what went wrong and "
               "regrade it.")
    return {
        "score": 0.0,
        "output": message,
        "output_format": MD,
        "visibility": "visible",
        "stdout_visibility": stdout_visibility,
        "tests": [{"name": "Autograder error (not your grade)", "status": GS_FAILED,
                   "output": message, "output_format": MD, "visibility": "visible"}],
        "extra_data": {"grader_failed": True, "error": error,
                       "grader_version": grader_version},
    }
