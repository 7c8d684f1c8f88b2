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

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.core.course import Assignment, Course
from grader.core.errors import ConfigError, CourseError
from grader.core.progress import Observer
from grader.core.results import Attempt, RunResult, SubmissionResult
from grader.core.settings import Settings
from grader.core.text import display_path, valid
from grader.run.budget import not_run
from grader.run.cache import ResultCache, cache_key
from grader.run.confirm import confirm_timeouts, waited
from grader.run.discover import Discovery, Submission, Unrecognized, course_files, discover
from grader.run.layouts import PER_STUDENT
from grader.run.local import Executor, LocalPool, one_line
from grader.run.local import Progress as Progress
from grader.run.local import close_sandboxes as close_sandboxes  # where callers found them
from grader.run.local import grader_error as grader_error
from grader.run.local import kept_sandbox as kept_sandbox
from grader.run.preload import with_preload
from grader.sandbox.private import refuse_readable
from grader.submission.grade import Job, missing_result
from grader.suite.files import suite_hash


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
    for the assignments :func:`graded_assignments` chooses. Each suite is hashed once here,
    for the whole run (grading, cache keys and cluster tasks use the job's hash)."""
    wanted = graded_assignments(discovery, course, only, all_assignments)
    hashes = {assignment.id: suite_hash(assignment) for assignment in wanted}
    handed: dict[tuple[str, str], list[Submission]] = {}
    for submission in discovery.submissions:
        handed.setdefault((submission.student, submission.assignment), []).append(submission)
    jobs: list[Job] = []
    for student in discovery.students:
        for assignment in wanted:
            files = handed.get((student, assignment.id), [])
            digest = hashes[assignment.id]
            jobs.extend(Job(student, assignment, s.path, s.matched_by, digest,
                            s.source, s.extraction) for s in files)
            if not files:
                jobs.append(Job(student, assignment, None, suite_hash=digest))
    return jobs


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
    discovery = discover(submissions_dir, course.assignments, settings.limits.reader(), layout,
                         course_files(course.root))
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
    settings = with_preload(settings, jobs)  # what this run's workers import, no more
    settings = replace(settings, private_paths=private_paths(course, resume, source))
    if executor is None:
        executor = executor_for(settings, course)
    if executor.level == "process":
        refuse_readable([Path(p) for p in settings.private_paths])
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
                results[index] = missing_result(job, settings_for(job), executor.level)
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
        if resume is not None and job in keys and not result.grader_error \
                and not not_run(result):
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
        graded = executor.grade([jobs[i] for i in todo], settings, finished, settings_for) \
            if todo else []  # all reused: no pool, no worker
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


def private_paths(course: Course, resume: Resume | None, source: str) -> tuple[str, ...]:
    """What no worker may read: the course's solutions/ (hidden suites, references, the
    secret), the submissions folder (when grading one) and the output folder."""
    found = [course.root / "solutions", Path(source)]
    if resume is not None:
        found.append(resume.cache.root.parent)
    return tuple(str(p.resolve()) for p in found if p.is_dir())


def _key(job: Job, settings: Settings, level: str) -> str | None:
    try:
        return cache_key(job, settings, level)
    except OSError:  # unreadable now: graded (and its error reported), not cached
        return None
