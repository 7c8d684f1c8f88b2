"""``grade run``: grade a submissions folder or LMS download, write every report, print the
score table.

SOURCE is a folder or a zip in any layout of grader.run.layouts (one folder per student,
Canvas, Moodle, a Gradescope export, git checkouts): the run's first line names the layout
found (``layout`` forces one), the next the assignments graded: those anyone handed something
in for, unless ``only`` names them or ``all_assignments`` asks for every one. Students of an LMS
layout are mapped to the roster (grader.run.identities).

A rerun on the same ``--out`` resumes: submissions already graded with the same file, grader,
suite and settings come from ``OUT/.cache`` (grader.run.cache), so an interrupted run loses nothing
and a late submission costs seconds. ``force`` regrades everything; ``students`` regrades just
those students (with ``Settings.seed`` when given: a replay of one student's recorded seed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from grader.core.course import Course
from grader.core.deadline_files import read_times, write_times
from grader.core.errors import Interrupted
from grader.core.grade_record import Deadlines, apply_deadlines, load_deadlines
from grader.core.paths import TEMPLATES_DIR, mark_output, write_atomic
from grader.core.progress import Observer, ProgressBar
from grader.core.results import RunResult
from grader.core.roster import Roster, read_roster_file
from grader.core.settings import Settings
from grader.core.text import visible
from grader.core.visibility import read_visibility
from grader.report import score_table, write_reports
from grader.report.calls import reference_calls
from grader.review import answers
from grader.review.merge import merge_manual
from grader.run.cache import ResultCache
from grader.run.discover import Discovery, course_files, discover_view
from grader.run.grading import Resume, grade_discovery, graded_assignments
from grader.run.identities import map_to_roster
from grader.run.layouts import ArchiveLimits, SourceView, open_source
from grader.run.local import start_pool_early
from grader.run.matched import MatchMemo
from grader.submission.grade import suite_hash
from grader.suite import budgets


@dataclass(frozen=True)
class RunRequest:
    submissions_dir: Path
    out_dir: Path
    only: tuple[str, ...] = ()
    quiet: bool = False
    force: bool = False
    students: tuple[str, ...] = ()
    roster: Path | None = None
    layout: str | None = None  # None: detected
    all_assignments: bool = False
    gradebook_format: str = "plain"  # or canvas, moodle, blackboard (grader.report.lms_gradebook)
    db: str | None = None  # the review database (grade review); default OUT/review.db if there
    times: Path | None = None  # --times: student,assignment,submitted_at
    extensions: Path | None = None  # --extensions (default: the course's extensions.csv)
    overrides: Path | None = None  # --overrides (default: the course's overrides.csv)


#: The submission times a run used, kept in --out so a regrade keeps the original time.
TIMES_FILE = "submission-times.csv"


def with_times(deadlines: Deadlines, out_dir: Path, course: Course,
               source: dict[tuple[str, str], dt.datetime]) -> Deadlines:
    """Each submission's time: the one an earlier run on the same --out recorded (a regrade
    keeps it), replaced by the one the source records (a Gradescope export), replaced by a
    --times row (``deadlines.times``)."""
    recorded = out_dir / TIMES_FILE
    earlier = read_times(recorded, [a.id for a in course.assignments]) \
        if recorded.is_file() else {}
    return replace(deadlines, times={**earlier, **source, **deadlines.times})


def run(request: RunRequest, course: Course, settings: Settings,
        echo: Callable[[str], None] = print, observer: Observer | None = None) -> RunResult:
    """Grade, write reports, and tell the user where they are.

    ``observer`` sees each submission as it is graded (default: a progress bar on stderr when
    it is a terminal and not ``quiet``).
    """
    roster_file = read_roster_file(request.roster) if request.roster else None
    roster = roster_file.entries if roster_file else None
    deadlines = load_deadlines(course, request.times, request.extensions, request.overrides)
    if observer is None:
        observer = ProgressBar(enabled=False if request.quiet else None)
    course.select(request.only)  # an unknown --assignment is refused before anything is written
    mark_output(request.out_dir)  # before discovery: `--out SUBMISSIONS_DIR/out` is no student
    result, source_times = _grade_source(request, course, settings, roster_file, observer,
                                         echo)
    deadlines = with_times(deadlines, request.out_dir, course, source_times)
    result = replace(result, results=apply_deadlines(result.results, deadlines,
                                                     warn=lambda line: echo(f"grade: {line}")))
    if deadlines.times:
        write_atomic(request.out_dir / TIMES_FILE, write_times(deadlines.times))
    result = merge_manual(result, request.out_dir, request.db)
    paths = write_reports(result, request.out_dir, TEMPLATES_DIR,
                          titles={a.id: a.title for a in course.assignments},
                          calls=reference_calls(course), roster=roster,
                          gradebook_format=request.gradebook_format,
                          lms_columns=roster_file.columns if roster_file else (),
                          visibility=read_visibility(course.root,
                                                     [a.id for a in course.assignments]))
    result = paths.run or result  # a submission whose report failed is now a grader error
    if not request.quiet:
        echo(f"Sandbox: {result.sandbox}")
        echo(score_table(result))
    _echo_roster(paths.missing, paths.unknown, echo)
    if paths.lms_gradebook is not None:
        echo(f"gradebook for {request.gradebook_format}: {paths.lms_gradebook}")
        for note in paths.lms_notes:
            echo(note)
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


def _grade_source(request: RunRequest, course: Course, settings: Settings,
                  roster_file: Roster | None, observer: Observer,
                  echo: Callable[[str], None]
                  ) -> tuple[RunResult, dict[tuple[str, str], dt.datetime]]:
    """Open SOURCE, say what it is, match it to the roster, grade it (its paths shown as the
    zip's when it was one: the staging folder is gone once this returns); and the submission
    times the source records (a Gradescope export's ``created_at``), for the late policy."""
    chosen = course.select(request.only)
    cache = ResultCache(request.out_dir)
    resume = Resume(cache, force=request.force, students=request.students)
    reader = settings.limits.reader()
    with open_source(request.submissions_dir, request.layout,
                     ArchiveLimits(max_file_bytes=reader.max_bytes)) as view:
        if not request.quiet:
            echo(f"Layout: {view.layout}: {view.description}; "
                 f"{_count(len(view.students), 'student')} in {view.label or view.root}")
        for line in budgets.stale(chosen, suite_hash):
            echo(line)
        if roster_file is not None and request.roster is not None and not request.quiet:
            echo(_roster_line(request.roster, roster_file))
        # a class with a file to read will be graded in a pool: its fork server's imports
        # start now, beside discovery
        early = (lambda: start_pool_early(settings, [a.hidden_suite for a in chosen])) \
            if len(view.students) > 1 else None
        found = discover_view(view, course.assignments, reader, course_files(course.root),
                              MatchMemo(request.out_dir, course.assignments), early)
        discovery = map_to_roster(found, roster_file.entries if roster_file else ())
        if not request.quiet:
            _echo_assignments(discovery, course, request, echo)
        try:
            result = grade_discovery(discovery, course, settings, request.only,
                                     observer=observer, resume=resume,
                                     all_assignments=request.all_assignments,
                                     source=str(request.submissions_dir))
        except KeyboardInterrupt:
            kept = len(cache.entries())
            raise Interrupted(f"interrupted; {kept} graded submissions are kept in "
                              f"{cache.root}, rerun the same command to resume") from None
        answers.write(answers.collect(result.results, chosen, reader.max_bytes),
                      request.out_dir)
        return _labelled(result, view), source_times(discovery)


def source_times(discovery: Discovery) -> dict[tuple[str, str], dt.datetime]:
    """(student in lower case, assignment) -> the latest submission time the source records
    for it; times without a UTC offset or unreadable are left out (never guessed)."""
    times: dict[tuple[str, str], dt.datetime] = {}
    for submission in discovery.submissions:
        try:
            moment = dt.datetime.fromisoformat(submission.submitted_at or "")
        except ValueError:
            continue
        if moment.tzinfo is None:
            continue
        key = (submission.student.lower(), submission.assignment)
        times[key] = max(moment, times.get(key, moment))
    return times


def _roster_line(path: Path, roster: Roster) -> str:
    shown = "; ".join(roster.skipped[:5]) + (f"; and {len(roster.skipped) - 5} more rows"
                                              if len(roster.skipped) > 5 else "")
    skipped = f"; skipped {shown}" if roster.skipped else ""
    return (f"roster: read {path.name} as a {roster.kind}: "
            f"{_count(len(roster.entries), 'student')}{skipped}")


def _echo_assignments(discovery: Discovery, course: Course, request: RunRequest,
                      echo: Callable[[str], None]) -> None:
    graded = [a.id for a in graded_assignments(discovery, course, request.only,
                                               request.all_assignments)]
    left = [a.id for a in course.assignments if a.id not in graded]
    why = ("--assignment" if request.only else "--all" if request.all_assignments
           else "handed in by at least one student")
    echo(f"Assignments graded ({why}): {', '.join(graded) or 'none'}"
         + (f"; not graded: {', '.join(left)} (--all grades every assignment)"
            if left and not request.only else ""))


def _labelled(result: RunResult, view: SourceView) -> RunResult:
    """Paths inside a zip's staging folder shown as ``<zip name>/<member>`` (the staging
    folder is gone once the run ends)."""
    if view.staging is None:
        return result

    def label(path: str | None) -> str | None:
        if not path:
            return path
        try:
            return f"{view.label}/{Path(path).relative_to(view.staging).as_posix()}"
        except ValueError:
            return path

    results = tuple(replace(r, path=label(r.path), other_attempts=tuple(
        replace(a, path=label(a.path) or "") for a in r.other_attempts)) for r in result.results)
    return replace(result, results=results, unrecognized=tuple(
        (label(p) or p, why) for p, why in result.unrecognized))


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
