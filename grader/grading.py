"""A whole grading run: discover -> plan jobs -> grade each (in parallel) -> combine attempts.

Every student folder gets one result per assignment: the best of the notebooks they handed in
for it (the others are listed in the result), or a "missing" result worth 0. One submission's
failure never affects another's; a grader-side error while grading one is recorded as that
submission's error and the run goes on.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from grader.course import Course
from grader.discover import Discovery, discover
from grader.errors import CourseError
from grader.results import Attempt, RunResult, SubmissionResult
from grader.runner.grade import Job, grade_job
from grader.sandbox import make_sandbox
from grader.settings import Settings

Progress = Callable[[SubmissionResult], None]


def plan_jobs(discovery: Discovery, course: Course, only: Sequence[str] = ()) -> list[Job]:
    """One job per submitted file, plus a path-less job per (student, assignment) not handed in."""
    wanted = [a for a in course.assignments if not only or a.id in only]
    jobs: list[Job] = []
    for student in discovery.students:
        for assignment in wanted:
            files = [s for s in discovery.submissions
                     if s.student == student and s.assignment == assignment.id]
            jobs.extend(Job(student, assignment, s.path, s.matched_by) for s in files)
            if not files:
                jobs.append(Job(student, assignment, None))
    return jobs


def grade_jobs(jobs: Sequence[Job], settings: Settings,
               progress: Progress | None = None) -> list[SubmissionResult]:
    """Grade every job, ``settings.jobs`` at a time, in job order."""
    if settings.jobs == 1 or len(jobs) <= 1:
        sandbox = make_sandbox(settings.sandbox)
        return [_report(_grade_safely(job, settings, sandbox), progress) for job in jobs]
    context = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(settings.jobs, mp_context=context) as pool:
        futures = [pool.submit(_grade_in_pool, job, settings) for job in jobs]
        return [_report(future.result(), progress) for future in futures]


def _grade_in_pool(job: Job, settings: Settings) -> SubmissionResult:
    return _grade_safely(job, settings, make_sandbox(settings.sandbox))


def _grade_safely(job: Job, settings: Settings, sandbox: object) -> SubmissionResult:
    try:
        return grade_job(job, settings, sandbox)  # type: ignore[arg-type]
    except CourseError:
        raise
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the run
        return SubmissionResult(
            student=job.student, assignment=job.assignment.id,
            path=str(job.path) if job.path else None,
            error=f"The grader failed on this submission ({type(exc).__name__}: {exc}); "
                  "please tell the course staff.")


def _report(result: SubmissionResult, progress: Progress | None) -> SubmissionResult:
    if progress is not None:
        progress(result)
    return result


def best_attempts(results: Iterable[SubmissionResult]) -> list[SubmissionResult]:
    """Per (student, assignment) the highest score (first file on a tie), others listed."""
    groups: dict[tuple[str, str], list[SubmissionResult]] = {}
    for result in results:
        groups.setdefault((result.student, result.assignment), []).append(result)
    combined = []
    for group in groups.values():
        best = max(group, key=lambda r: r.score)
        others = tuple(Attempt(path=r.path or "", score=r.score) for r in group if r is not best)
        combined.append(replace(best, other_attempts=others) if others else best)
    return combined


def grade_folder(submissions_dir: Path, course: Course, settings: Settings,
                 only: Sequence[str] = (), progress: Progress | None = None) -> RunResult:
    """Grade ``submissions_dir`` as the course contract lays it out."""
    started = time.monotonic()
    assignments = [a for a in course.assignments if not only or a.id in only]
    discovery = discover(submissions_dir, assignments)
    jobs = plan_jobs(discovery, course, only)
    results = best_attempts(grade_jobs(jobs, settings, progress))
    return RunResult(
        results=tuple(results),
        unrecognized=tuple((str(u.path), u.reason) for u in discovery.unrecognized),
        sandbox=make_sandbox(settings.sandbox).description,
        duration_s=round(time.monotonic() - started, 3),
    )
