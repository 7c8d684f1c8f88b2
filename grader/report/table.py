"""Plain-text outputs: grades.csv and the terminal's score table.

Every CSV cell goes through ``csv_cell`` (no control character, never a spreadsheet formula),
every name and path in the table through ``visible`` (no escape sequence reaches the
terminal, no newline forges a row).
"""

from __future__ import annotations

from grader.core.results import RunResult, SubmissionResult
from grader.core.text import visible
from grader.report.gradebook import csv_document
from grader.report.late import late_line, record_lines
from grader.report.view import (
    assignment_order,
    attempts_text,
    points,
    submission_status,
)

#: Unrecognized files listed under the terminal's table (summary.md lists them all).
MAX_UNRECOGNIZED_LINES = 50

CSV_COLUMNS = ("student", "assignment", "score", "max_score", "status", "file",
               "other_attempts", "error", "raw_score", "late_penalty", "final_score",
               "submitted_at", "due", "grace_days_used", "late", "override")


def _record_cells(r: SubmissionResult) -> tuple[str, ...]:
    """The grade of record's columns: ``score`` is ``final_score``; ``late`` is the line the
    feedback shows, ``override`` the override lines (reason and who)."""
    record = r.grade
    if record is None:
        return (points(r.raw_score), "0", points(r.raw_score), "", "", "", "", "")
    lines = record_lines(record, handed_in=not r.missing)
    late = late_line(record, handed_in=not r.missing)
    return (points(record.raw_score), points(record.late_penalty), points(record.final_score),
            record.submitted_at, record.due, str(record.grace_used), late,
            "; ".join(line for line in lines if line != late))


#: added when written questions were merged (grade review): their points, and those pending
MANUAL_COLUMNS = ("written_score", "written_max", "pending")


def grades_csv(run: RunResult) -> str:
    """grades.csv: one row per (student, assignment), sorted by student then assignment.
    With written questions merged, ``score`` includes their graded points and the last
    columns say which are still pending (a pending question counts as nothing, not as 0)."""
    manual = any(r.manual for r in run.results)
    return csv_document(CSV_COLUMNS + (MANUAL_COLUMNS if manual else ()), (
        (r.student, r.assignment, points(r.score), points(r.max_score), submission_status(r),
         r.path or "", attempts_text(r), r.error or "", *_record_cells(r),
         *((_written(r), points(sum(m.max_score for m in r.manual)), " ".join(r.pending))
           if manual else ()))
        for r in sorted(run.results, key=lambda r: (r.student, r.assignment))))


def _written(result: SubmissionResult) -> str:
    graded = [m.score for m in result.manual if m.score is not None]
    return points(sum(graded)) if graded or not result.manual else "pending"


def score_table(run: RunResult) -> str:
    """One row per student, one column per assignment (``-`` when missing), and a total;
    then one line per unrecognised file. No trailing newline (``print`` adds one)."""
    assignments = assignment_order(run.results)
    cells: dict[str, dict[str, str]] = {}
    totals: dict[str, float] = {}
    for r in run.results:
        cells.setdefault(r.student, {})[r.assignment] = "-" if r.missing else points(r.score)
        totals[r.student] = totals.get(r.student, 0.0) + r.score
    header = ["student", *assignments, "total"]
    rows = [[visible(student), *(cells[student].get(a, "-") for a in assignments),
             points(totals[student])] for student in sorted(cells)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]
    out.extend(f"unrecognized: {visible(path)}: {visible(reason)}"
               for path, reason in run.unrecognized[:MAX_UNRECOGNIZED_LINES])
    if len(run.unrecognized) > MAX_UNRECOGNIZED_LINES:
        out.append(f"unrecognized: ... and {len(run.unrecognized) - MAX_UNRECOGNIZED_LINES} "
                   "more files (all are listed in summary.md)")
    return "\n".join(out)
