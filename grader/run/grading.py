"""A whole grading run: discover -> plan jobs -> grade each (in parallel) -> combine attempts.

Every student folder gets one result per assignment: the best of the notebooks they handed in
for it (the others are listed in the result), or a "missing" result worth 0. One submission's
failure never affects another's. When the grader's own sandbox fails on a submission (a worker
that could not start, a zygote that stopped answering), the submission is graded again on a
fresh slot; if that fails too, or the grader hits any other error, the result is a grader
error (``grader_error``: status ``error``, never cached), never a score, and the run goes on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from grader.core.course import Course
from grader.core.errors import ConfigError
from grader.core.progress import Observer
from grader.core.results import Attempt, RunResult, SubmissionResult
from grader.core.settings import Settings
from grader.run.cache import ResultCache, cache_key
from grader.run.discover import Discovery, discover
from grader.run.local import LocalPool, Progress
from grader.run.local import close_sandboxes as close_sandboxes  # where callers found them
from grader.run.local import grader_error as grader_error
from grader.run.local import kept_sandbox as kept_sandbox
from grader.submission.grade import Job, missing_result


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


class Executor(Protocol):
    """Where a run's submissions are graded: local processes, or a Dask cluster.

    Discovery, the cache, reports and exit status are the same whichever grades.
    """

    #: the sandbox level that goes into cache keys and into results of missing notebooks
    level: str

    @property
    def description(self) -> str:
        """The isolation in force, for the run's report (complete once ``grade`` returned)."""
        ...

    def grade(self, jobs: Sequence[Job], settings: Settings, progress: Progress | None,
              settings_for: Callable[[Job], Settings] | None) -> list[SubmissionResult]:
        """Grade every job (as :func:`grade_jobs` does): results in job order, ``progress``
        told of each in the calling process as it arrives."""
        ...


def executor_for(settings: Settings, course: Course) -> Executor:
    """A Dask cluster when ``settings.cluster`` names one (grader.run.cluster), else a LocalPool."""
    if settings.cluster is not None:
        from grader.run.cluster import cluster_executor

        return cluster_executor(settings, course)
    return LocalPool(settings)


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


@dataclass(frozen=True)
class Resume:
    """How a run reuses earlier results from its output folder's cache (grader.run.cache).

    ``force``: regrade everything. ``students``: regrade these students (their submissions
    only, with ``Settings.seed`` if one is given); the others are reused when cached.
    """

    cache: ResultCache
    force: bool = False
    students: tuple[str, ...] = ()


def grade_folder(submissions_dir: Path, course: Course, settings: Settings,
                 only: Sequence[str] = (), observer: Observer | None = None,
                 resume: Resume | None = None, executor: Executor | None = None) -> RunResult:
    """Grade ``submissions_dir`` as the course contract lays it out.

    With ``resume``, a submission whose cache key is already in the cache is not graded again
    and each newly graded one is cached the moment it finishes. ``executor`` grades the
    submissions (default: :func:`executor_for` the settings).
    """
    started = time.monotonic()
    # Match files against every assignment, so that --assignment X never takes another
    # assignment's notebook for X; plan_jobs then keeps only the chosen ones.
    discovery = discover(submissions_dir, course.assignments, settings.limits.reader())
    chosen = set(resume.students) if resume is not None else set()
    unknown = sorted(chosen - set(discovery.students))
    if unknown:
        raise ConfigError(f"--student: no folder {', '.join(map(repr, unknown))} in "
                          f"{submissions_dir}")
    return grade_discovery(discovery, course, settings, only, observer, resume, executor,
                           started)


def grade_discovery(discovery: Discovery, course: Course, settings: Settings,
                    only: Sequence[str] = (), observer: Observer | None = None,
                    resume: Resume | None = None, executor: Executor | None = None,
                    started: float | None = None) -> RunResult:
    """Grade what was discovered (a class folder, or one student's files): plan the jobs,
    reuse cached results, grade the rest, keep each student's best attempt."""
    started = time.monotonic() if started is None else started
    jobs = plan_jobs(discovery, course, only)
    chosen = set(resume.students) if resume is not None else set()
    if executor is None:
        executor = executor_for(settings, course)
    unseeded = replace(settings, seed=None)

    def settings_for(job: Job) -> Settings:
        # --seed replays the chosen students only; the others keep their own seeds.
        return unseeded if chosen and job.student not in chosen else settings

    results: dict[int, SubmissionResult] = {}
    keys: dict[Job, str] = {}
    todo: list[int] = []
    for index, job in enumerate(jobs):
        if job.path is None:  # nothing handed in: nothing to run
            results[index] = missing_result(job, settings_for(job), executor.level)
            continue
        key = _key(job, settings_for(job), executor.level) if resume is not None else None
        forced = resume is None or resume.force or job.student in chosen
        cached = resume.cache.get(job, key) if key and resume and not forced else None
        if cached is not None:
            results[index] = cached
            continue
        if key:
            keys[job] = key
        todo.append(index)
    reused = len(results) - sum(1 for job in jobs if job.path is None)

    def finished(job: Job, result: SubmissionResult) -> None:
        if resume is not None and job in keys and not result.grader_error:
            with contextlib.suppress(OSError):  # a full disk costs the resume, not the run
                resume.cache.put(job, keys[job], result)
        if observer is not None:
            observer.advance(result)

    if observer is not None:
        observer.start(len(todo), reused)
    try:
        graded = executor.grade([jobs[i] for i in todo], settings, finished, settings_for)
    finally:
        if observer is not None:
            observer.finish()
    results.update(zip(todo, graded, strict=True))
    combined = best_attempts(results[i] for i in range(len(jobs)))
    return RunResult(
        results=tuple(combined),
        unrecognized=tuple((str(u.path), u.reason) for u in discovery.unrecognized),
        sandbox=executor.description,
        duration_s=round(time.monotonic() - started, 3),
        graded=len(todo),
        reused=reused,
    )


def _key(job: Job, settings: Settings, level: str) -> str | None:
    try:
        return cache_key(job, settings, level)
    except OSError:  # unreadable now: graded (and its error reported), not cached
        return None
