"""``grade run``: grade a submissions folder, write every report, print the score table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.grading import grade_folder
from grader.report import score_table, write_reports
from grader.results import RunResult
from grader.settings import Settings


@dataclass(frozen=True)
class RunRequest:
    submissions_dir: Path
    out_dir: Path
    only: tuple[str, ...] = ()
    quiet: bool = False


def run(request: RunRequest, course: Course, settings: Settings,
        echo: Callable[[str], None] = print) -> RunResult:
    """Grade, write reports, and tell the user where they are."""
    result = grade_folder(request.submissions_dir, course, settings, request.only)
    paths = write_reports(result, request.out_dir, course.root / "templates",
                          titles={a.id: a.title for a in course.assignments})
    if not request.quiet:
        echo(f"Sandbox: {result.sandbox}")
        echo(score_table(result))
    graded = sum(1 for r in result.results if not r.missing)
    echo(f"Graded {graded} submissions of {len({r.student for r in result.results})} students "
         f"in {result.duration_s:.1f} s; reports in {paths.out_dir}")
    return result
