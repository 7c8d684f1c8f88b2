"""``grade run``: grade a submissions folder, write every report, print the score table.

A rerun on the same ``--out`` resumes: submissions already graded with the same file, grader,
suite and settings come from ``OUT/.cache`` (grader.run.cache), so an interrupted run loses nothing
and a late submission costs seconds. ``force`` regrades everything; ``students`` regrades just
those students (with ``Settings.seed`` when given: a replay of one student's recorded seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.core.course import Course
from grader.core.errors import GraderError
from grader.core.progress import Observer, ProgressBar
from grader.core.results import RunResult
from grader.core.roster import read_roster
from grader.core.settings import Settings
from grader.core.text import visible
from grader.core.visibility import read_visibility
from grader.report import score_table, write_reports
from grader.report.calls import reference_calls
from grader.run.cache import ResultCache
from grader.run.grading import Resume, grade_folder
from grader.submission.grade import suite_hash
from grader.suite import budgets


class Interrupted(GraderError):
    """The run was interrupted; finished submissions are kept for the next run."""

    exit_code = 130


@dataclass(frozen=True)
class RunRequest:
    submissions_dir: Path
    out_dir: Path
    only: tuple[str, ...] = ()
    quiet: bool = False
    force: bool = False
    students: tuple[str, ...] = ()
    roster: Path | None = None


def run(request: RunRequest, course: Course, settings: Settings,
        echo: Callable[[str], None] = print, observer: Observer | None = None) -> RunResult:
    """Grade, write reports, and tell the user where they are.

    ``observer`` sees each submission as it is graded (default: a progress bar on stderr when
    it is a terminal and not ``quiet``).
    """
    chosen = course.select(request.only)
    for line in budgets.stale(chosen, suite_hash):
        echo(line)
    roster = read_roster(request.roster) if request.roster else None
    if observer is None:
        observer = ProgressBar(enabled=False if request.quiet else None)
    cache = ResultCache(request.out_dir)
    resume = Resume(cache, force=request.force, students=request.students)
    try:
        result = grade_folder(request.submissions_dir, course, settings, request.only,
                              observer=observer, resume=resume)
    except KeyboardInterrupt:
        kept = len(cache.entries())
        raise Interrupted(f"interrupted; {kept} graded submissions are kept in {cache.root}, "
                          "rerun the same command to resume") from None
    paths = write_reports(result, request.out_dir, course.root / "templates",
                          titles={a.id: a.title for a in course.assignments},
                          calls=reference_calls(course), roster=roster,
                          visibility=read_visibility(course.root,
                                                     [a.id for a in course.assignments]))
    if not request.quiet:
        echo(f"Sandbox: {result.sandbox}")
        echo(score_table(result))
    _echo_roster(paths.missing, paths.unknown, echo)
    handed_in = sum(1 for r in result.results if not r.missing)
    students = len({r.student for r in result.results})
    echo(f"{_count(handed_in, 'result')} for {_count(students, 'student')} in "
         f"{result.duration_s:.1f} s "
         f"(notebooks graded {result.graded}, reused {result.reused} from cache); "
         f"reports in {paths.out_dir}")
    failed = sum(1 for r in result.results if r.grader_error)
    if failed:
        echo(f"grade: the grader failed on {_count(failed, 'submission')} (status error in "
             "grades.csv, not cached): rerun the same command to grade them again")
    return result


def _echo_roster(missing: tuple[str, ...], unknown: tuple[str, ...],
                 echo: Callable[[str], None]) -> None:
    if missing:
        echo(f"roster: {_count(len(missing), 'student')} with no folder (0 in gradebook.csv): "
             f"{', '.join(visible(s) for s in missing[:20])}{' ...' if len(missing) > 20 else ''}")
    if unknown:
        echo(f"roster: {_count(len(unknown), 'folder')} not on the roster (unknown in "
             f"gradebook.csv): {', '.join(visible(s) for s in unknown[:20])}"
             f"{' ...' if len(unknown) > 20 else ''}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
