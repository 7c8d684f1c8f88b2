"""A whole grading run: discover -> plan jobs -> grade each (in parallel) -> combine attempts.

Every student gets one result per assignment graded (those anyone handed something in for, or
``only``, or every one with ``all_assignments``): the best of the notebooks they handed in for
it (the others are listed in the result), or a "missing" result worth 0 (whose feedback names
a file they handed in for it in the wrong format, if any). One submission's
failure never affects another's. When the grader's own sandbox fails on a submission (a worker
that could not start, a zygote that stopped answering), the submission is graded again on a
fresh slot; if that fails too, or the grader hits any other error, the result is a grader
error (``grader_error``: status ``error``, never cached), never a score, and the run goes on.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.util
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from grader.core.course import Assignment, Course
from grader.core.errors import ConfigError, CourseError, SandboxFailure
from grader.core.progress import Observer
from grader.core.results import Attempt, RunResult, SubmissionResult
from grader.core.settings import Settings
from grader.core.text import display_path, valid, visible
from grader.run.cache import ResultCache, cache_key
from grader.run.confirm import confirm_timeouts, waited
from grader.run.discover import Discovery, Unrecognized, discover
from grader.run.layouts import PER_STUDENT
from grader.sandbox import make_sandbox, slots
from grader.sandbox.base import Sandbox
from grader.submission.grade import Job, grade_job
from grader.submission.session import clip

#: Told of each finished job in the calling process: ``progress(job, result)``.
Progress = Callable[[Job, SubmissionResult], None]
#: Grading attempts of one submission whose sandbox failed (each on a fresh slot).
SANDBOX_ATTEMPTS = 2


def graded_assignments(discovery: Discovery, course: Course, only: Sequence[str] = (),
                       all_assignments: bool = False) -> list[Assignment]:
    """What a run grades: ``only`` when given, else every assignment with ``all_assignments``,
    else those at least one student handed something in for (in course order)."""
    if only:
        return [a for a in course.assignments if a.id in only]
    if all_assignments:
        return list(course.assignments)
    present = set(discovery.assignments)
    return [a for a in course.assignments if a.id in present]


def plan_jobs(discovery: Discovery, course: Course, only: Sequence[str] = (),
              all_assignments: bool = True) -> list[Job]:
    """One job per submitted file, plus a path-less job per (student, assignment) not handed in,
    for the assignments :func:`graded_assignments` chooses."""
    wanted = graded_assignments(discovery, course, only, all_assignments)
    jobs: list[Job] = []
    for student in discovery.students:
        for assignment in wanted:
            files = [s for s in discovery.submissions
                     if s.student == student and s.assignment == assignment.id]
            jobs.extend(Job(student, assignment, s.path, s.matched_by) for s in files)
            if not files:
                jobs.append(Job(student, assignment, None))
    return jobs


def grade_jobs(jobs: Sequence[Job], settings: Settings, progress: Progress | None = None,
               settings_for: Callable[[Job], Settings] | None = None) -> list[SubmissionResult]:
    """Grade every job, ``settings.jobs`` at a time; results in job order.

    ``progress(job, result)`` is called in the calling process as each job finishes, in
    completion order, so a caller can keep finished work before the whole run is over.
    ``settings_for(job)`` gives a job its own settings (default: ``settings``). On an
    interruption (Ctrl-C) the jobs not yet started are cancelled and the interruption goes on.
    """
    def own(job: Job) -> Settings:
        return settings_for(job) if settings_for is not None else settings

    if settings.jobs == 1 or len(jobs) <= 1:
        graded = []
        for job in jobs:  # a retry may replace the sandbox: always take the current one
            sandbox = kept_sandbox(settings.sandbox, settings.warm)
            graded.append(_report(job, _grade_safely(job, own(job), sandbox), progress))
        return graded
    context = multiprocessing.get_context("forkserver")
    pool = concurrent.futures.ProcessPoolExecutor(settings.jobs, mp_context=context)
    try:
        futures = {pool.submit(_grade_in_pool, job, own(job)): index
                   for index, job in enumerate(jobs)}
        results: list[SubmissionResult | None] = [None] * len(jobs)
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            results[index] = _report(jobs[index], future.result(), progress)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [result for result in results if result is not None]


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


class LocalPool:
    """``settings.jobs`` processes on this machine, each with its own sandbox slot."""

    def __init__(self, settings: Settings) -> None:
        self.sandbox = kept_sandbox(settings.sandbox, settings.warm)
        self.level = self.sandbox.level
        self.description = self.sandbox.description

    def grade(self, jobs: Sequence[Job], settings: Settings, progress: Progress | None,
              settings_for: Callable[[Job], Settings] | None) -> list[SubmissionResult]:
        return grade_jobs(jobs, settings, progress, settings_for)


def executor_for(settings: Settings, course: Course) -> Executor:
    """A Dask cluster when ``settings.cluster`` names one (grader.run.cluster), else a LocalPool."""
    if settings.cluster is not None:
        from grader.run.cluster import cluster_executor

        return cluster_executor(settings, course)
    return LocalPool(settings)


_SANDBOXES: dict[tuple[str, bool], Sandbox] = {}


def kept_sandbox(level: str, warm: bool) -> Sandbox:
    """One sandbox per process and level, kept for the process's life (a warm zygote, and a
    slot leased once) or until :func:`close_sandboxes`. Pool processes each get their own."""
    sandbox = _SANDBOXES.get((level, warm))
    if sandbox is None:
        sandbox = _SANDBOXES[(level, warm)] = make_sandbox(level, warm=warm)
        # pool processes end through multiprocessing, not atexit alone
        atexit.register(sandbox.close)
        multiprocessing.util.Finalize(sandbox, sandbox.close, exitpriority=10)
    return sandbox


def close_sandboxes() -> None:
    """Close this process's sandboxes (their zygotes); the next use starts fresh ones."""
    sandboxes = list(_SANDBOXES.values())
    _SANDBOXES.clear()
    for sandbox in sandboxes:
        sandbox.close()


def _fresh_slot(settings: Settings) -> Sandbox:
    """After a sandbox failure: close this process's sandboxes, lease another slot (another
    uid, another cgroup), and start the sandbox again there."""
    close_sandboxes()
    slots.lease_fresh_slot()
    return kept_sandbox(settings.sandbox, settings.warm)


def _grade_in_pool(job: Job, settings: Settings) -> SubmissionResult:
    return _grade_safely(job, settings, kept_sandbox(settings.sandbox, settings.warm))


def _grade_safely(job: Job, settings: Settings, sandbox: Sandbox) -> SubmissionResult:
    """Grade ``job``; a failure of the sandbox is retried on a fresh slot, and what still
    fails is a grader error, never a score."""
    failure: Exception | None = None
    for attempt in range(SANDBOX_ATTEMPTS):
        if attempt:
            sandbox = _fresh_slot(settings)
        try:
            return grade_job(job, settings, sandbox)
        except CourseError:
            raise
        except SandboxFailure as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - one submission must never stop the run
            failure = exc
            break
    return grader_error(job, one_line(failure))


def one_line(exc: BaseException | None) -> str:
    """``exc`` as one short line of valid text (its message may hold anything)."""
    return visible(valid(f"{type(exc).__name__}: {clip(exc, 300)}"))


def grader_error(job: Job, why: str) -> SubmissionResult:
    """The result of a submission the grader failed on: no score, status ``error``."""
    return SubmissionResult(
        student=job.student, assignment=job.assignment.id,
        path=display_path(job.path) if job.path else None, max_score=job.assignment.max_score,
        grader_error=True, matched_by=job.matched_by,
        error=f"The grader failed on this submission ({why}); please tell the course staff.")


def _report(job: Job, result: SubmissionResult, progress: Progress | None) -> SubmissionResult:
    if progress is not None:
        progress(job, result)
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
                 resume: Resume | None = None, executor: Executor | None = None, *,
                 all_assignments: bool = False, layout: str | None = PER_STUDENT
                 ) -> RunResult:
    """Grade ``submissions_dir`` as the course contract lays it out (or as ``layout``, one of
    grader.run.layouts; None: detected).

    The assignments graded are ``only``, else those handed in by anyone (every one with
    ``all_assignments``). With ``resume``, a submission whose cache key is already in the
    cache is not graded again and each newly graded one is cached the moment it finishes.
    ``executor`` grades the submissions (default: :func:`executor_for` the settings).
    """
    started = time.monotonic()
    # Match files against every assignment, so that --assignment X never takes another
    # assignment's notebook for X; plan_jobs then keeps only the chosen ones.
    discovery = discover(submissions_dir, course.assignments, settings.limits.reader(), layout)
    return grade_discovery(discovery, course, settings, only, observer, resume, executor,
                           all_assignments=all_assignments, started=started,
                           source=str(submissions_dir))


def grade_discovery(discovery: Discovery, course: Course, settings: Settings,
                    only: Sequence[str] = (), observer: Observer | None = None,
                    resume: Resume | None = None, executor: Executor | None = None, *,
                    all_assignments: bool = False, started: float | None = None,
                    source: str = "SOURCE") -> RunResult:
    """Grade what ``discovery`` found (see :func:`grade_folder`)."""
    started = time.monotonic() if started is None else started
    wanted = graded_assignments(discovery, course, only, all_assignments)
    jobs = plan_jobs(discovery, course, [a.id for a in wanted]) if wanted else []
    chosen = set(resume.students) if resume is not None else set()
    unknown = sorted(chosen - set(discovery.students))
    if unknown:
        raise ConfigError(f"--student: no folder {', '.join(map(repr, unknown))} in "
                          f"{source}")
    if executor is None:
        executor = executor_for(settings, course)
    unseeded = replace(settings, seed=None)

    def settings_for(job: Job) -> Settings:
        # --seed replays the chosen students only; the others keep their own seeds.
        return unseeded if chosen and job.student not in chosen else settings

    results: dict[int, SubmissionResult] = {}
    keys: dict[Job, str] = {}
    todo: list[int] = []
    missing = 0
    for index, job in enumerate(jobs):
        try:
            if job.path is None:  # nothing handed in: nothing to run
                results[index] = _grade_safely(job, settings_for(job), executor)
                missing += 1
                continue
            key = _key(job, settings_for(job), executor.level) if resume is not None else None
            forced = resume is None or resume.force or job.student in chosen
            cached = resume.cache.get(job, key) if key and resume and not forced else None
        except CourseError:
            raise
        except Exception as exc:  # noqa: BLE001 - contained: this submission's row says why
            results[index] = grader_error(job, one_line(exc))
            continue
        if cached is not None:
            results[index] = cached
            continue
        if key:
            keys[job] = key
        todo.append(index)
    reused = len(results) - missing - sum(1 for r in results.values() if r.grader_error)

    def keep(job: Job, result: SubmissionResult) -> None:
        if resume is not None and job in keys and not result.grader_error:
            # what cannot be stored is not cached (ResultCache.put); a full disk, or any
            # other failure, costs the resume of this submission, never the run
            with contextlib.suppress(Exception):
                resume.cache.put(job, keys[job], result)

    def finished(job: Job, result: SubmissionResult) -> None:
        if not waited(result):  # a timeout is cached only once confirmed (below)
            keep(job, result)
        if observer is not None:
            with contextlib.suppress(Exception):
                observer.advance(result)

    if observer is not None:
        observer.start(len(todo), reused)
    try:
        graded = executor.grade([jobs[i] for i in todo], settings, finished, settings_for)
    finally:
        if observer is not None:
            observer.finish()
    graded = confirm_timeouts([jobs[i] for i in todo], graded, settings, executor,
                              settings_for, keep)
    results.update(zip(todo, graded, strict=True))
    combined = best_attempts(results[i] for i in range(len(jobs)))
    return RunResult(
        results=tuple(wrong_format(combined, discovery.unrecognized)),
        unrecognized=tuple((display_path(u.path), valid(u.reason, 1000))
                           for u in discovery.unrecognized),
        sandbox=executor.description,
        duration_s=round(time.monotonic() - started, 3),
        graded=len(todo),
        reused=reused,
        layout=discovery.layout,
        students=discovery.identities,
        assignments=tuple(a.id for a in wanted),
    )


_KINDS = {".pdf": "a PDF", ".html": "an HTML export", ".htm": "an HTML export",
          ".zip": "a zip archive", ".docx": "a Word document", ".txt": "a text file"}


def wrong_format(results: Iterable[SubmissionResult], unrecognized: Sequence[Unrecognized]
                 ) -> list[SubmissionResult]:
    """Each result with nothing handed in, where the student handed in a file of another
    format named for that assignment: its feedback names the file and says what to hand in."""
    files: dict[tuple[str, str], list[Unrecognized]] = {}
    for item in unrecognized:
        if item.student and item.assignment:
            files.setdefault((item.student, item.assignment), []).append(item)
    out = []
    for result in results:
        found = files.get((result.student, result.assignment)) if result.missing else None
        if found:
            result = replace(result, error=wrong_format_message(result.assignment, found))
        out.append(result)
    return out


def wrong_format_message(assignment: str, files: Sequence[Unrecognized]) -> str:
    """What a student who handed in ``files`` (none of them a notebook) should hand in."""
    named = ", ".join(f"{f.name or f.path.name} "
                      f"({_KINDS.get(f.path.suffix.lower(), 'not a notebook')})" for f in files)
    unzip = " (unzip it: hand in the notebook inside)" if any(
        f.path.suffix.lower() == ".zip" for f in files) else ""
    return (f"You handed in {named}{unzip}, which the grader cannot read: it grades the "
            f"notebook itself. Hand in {assignment}.ipynb (in Jupyter: File > Download as > "
            f"Notebook (.ipynb)), or your code as {assignment}.py.")


def _key(job: Job, settings: Settings, level: str) -> str | None:
    try:
        return cache_key(job, settings, level)
    except OSError:  # unreadable now: graded (and its error reported), not cached
        return None
