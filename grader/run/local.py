"""Grading jobs on this machine: in this process, or ``settings.jobs`` processes at a time.

Each process keeps one sandbox per level (a warm zygote, a slot leased once) for its life
(:func:`kept_sandbox`). A submission whose sandbox failed is graded again on a fresh slot;
what still fails is a grader error (:func:`grader_error`), never a score. The Dask executor
(grader.run.cluster) grades each job on a cluster worker with :func:`grade_in_process`.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import importlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.util
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from grader.core.errors import CourseError, SandboxFailure
from grader.core.results import SubmissionResult
from grader.core.settings import Settings
from grader.core.text import display_path, valid, visible
from grader.run.budget import grade_group, student_groups
from grader.run.preload import OPTIMIZER, mentioned, suite_files, warm_optimizer
from grader.sandbox import make_sandbox, set_private, slots
from grader.sandbox.base import Sandbox
from grader.sandbox.zygote import PRELOAD, ZygoteSandbox
from grader.submission.bounds import clip
from grader.submission.grade import Job, grade_job, prepared
from grader.submission.stops import Remembered

#: Told of each finished job in the calling process: ``progress(job, result)``.
Progress = Callable[[Job, SubmissionResult], None]
#: Grading attempts of one submission whose sandbox failed (each on a fresh slot).
SANDBOX_ATTEMPTS = 2


def grade_jobs(jobs: Sequence[Job], settings: Settings, progress: Progress | None = None,
               settings_for: Callable[[Job], Settings] | None = None) -> list[SubmissionResult]:
    """Grade every job, ``settings.jobs`` at a time (one student's files: in this process);
    results in job order.

    ``progress(job, result)`` is called in the calling process as each job finishes, in
    completion order, so a caller can keep finished work before the whole run is over.
    ``settings_for(job)`` gives a job its own settings (default: ``settings``). On an
    interruption (Ctrl-C) the jobs not yet started are cancelled and the interruption goes on.
    """
    def own(job: Job) -> Settings:
        return settings_for(job) if settings_for is not None else settings

    groups = student_groups(jobs)  # the files of one student and assignment share a budget
    results: list[SubmissionResult | None] = [None] * len(jobs)

    def done(group: list[int], graded: list[SubmissionResult]) -> None:
        for index, result in zip(group, graded, strict=True):
            results[index] = _report(jobs[index], result, progress)

    # one student's files are graded here: a pool process would import torch and start a
    # zygote of its own (seconds each) for a handful of files, where one process overlaps its
    # zygote's start with its own imports (issue 32: `grade` on one student's folder)
    one_student = len({job.student for job in jobs}) <= 1
    if settings.jobs == 1 or one_student:
        first = next((job for job in jobs if job.path is not None), None)
        if one_student and first is not None:  # then every file read, every suite collected
            prestart(own(first))
        with prepared(jobs if one_student else [], settings.limits):
            for group in groups:
                done(group, grade_group_in_process([jobs[i] for i in group],
                                                   [own(jobs[i]) for i in group]))
        return [result for result in results if result is not None]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(forkserver_preload(settings))
    pool = concurrent.futures.ProcessPoolExecutor(settings.jobs, mp_context=context)
    try:
        futures = {pool.submit(grade_group_in_process, [jobs[i] for i in group],
                               [own(jobs[i]) for i in group]): group for group in groups}
        for future in concurrent.futures.as_completed(futures):
            done(futures[future], future.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [result for result in results if result is not None]


def start_pool_early(settings: Settings, suites: Sequence[Path]) -> None:
    """Start the pool's fork server now, where ``grade_jobs`` will use a pool: its imports (the
    grading code, and numpy, torch and torch.optim where the class's hidden ``suites``
    mention them) then run beside discovery instead of after it (issue 32). A class run calls
    this when discovery first has to read a file (a file this OUT has not seen, so grading
    follows); a run with nothing to grade never starts it. The fork server is
    multiprocessing's, shared by every pool this process makes, so ``grade_jobs`` finds it
    running; one that ends up unused exits with this process."""
    if settings.jobs <= 1 or settings.cluster is not None:
        return
    if settings.preload is None:
        settings = replace(settings, preload=mentioned(
            [path for suite in suites for path in suite_files(suite)]))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(forkserver_preload(settings))
    with contextlib.suppress(OSError):  # the pool tries again when it starts, and says why
        multiprocessing.forkserver.ensure_running()


def forkserver_preload(settings: Settings) -> list[str]:
    """What the pool's fork server imports once, before it forks each pool process: this
    module (so the grading code) and what the suites import (:func:`suite_imports`, as
    :func:`prestart` imports it), instead of each pool process importing them
    on its own (a 200-submission run's CPU, two pairs: 54.8 / 57.5 s -> 49.1 / 54.1 s; the
    pool processes share torch's pages with the fork server). Imports only: an optimizer's
    first step (which may start threads) stays in each pool process. ``__main__`` stays
    first, as multiprocessing has it by default."""
    preload = settings.preload if settings.preload is not None else PRELOAD
    return ["__main__", __name__, *suite_imports(preload)]


def suite_imports(preload: Sequence[str]) -> list[str]:
    """The modules of a zygote's ``preload`` the suites import in a grading process: all but
    matplotlib, which only the workers use (the grader draws its pictures itself)."""
    return [name for name in preload if not name.startswith("matplotlib")]


def grade_group_in_process(jobs: list[Job], settings: list[Settings]) -> list[SubmissionResult]:
    """One student's files for one assignment, in order, within one budget (grader.run.budget);
    a retry may replace the sandbox: each file takes the current one."""
    def one(job: Job, own: Settings, remembered: Remembered) -> SubmissionResult:
        sandbox = kept_sandbox(own.sandbox, own.warm, own.preload)
        set_private(sandbox, own.private_paths)
        return grade_safely(job, own, sandbox, remembered)

    if jobs and any(job.path is not None for job in jobs):
        prestart(settings[0])
    return grade_group(jobs, settings, one)


def prestart(settings: Settings) -> None:
    """Start this process's warm zygote without waiting for it, where it has none yet, and
    meanwhile import here what the suites import (numpy, torch, an optimizer's first step:
    :func:`suite_imports`): the two imports run side by side instead of one after the other
    (issue 32). In this thread, not a background one: the notebook reader is forked next,
    and a fork while another thread holds an import lock could leave the reader waiting."""
    sandbox = kept_sandbox(settings.sandbox, settings.warm, settings.preload)
    set_private(sandbox, settings.private_paths)
    if not isinstance(sandbox, ZygoteSandbox) or sandbox.zygote is not None:
        return
    sandbox.prestart(settings.limits, settings.device)
    for name in suite_imports(sandbox.preload):
        with contextlib.suppress(ImportError):  # the suites then say what is missing
            importlib.import_module(name)
    if OPTIMIZER in sandbox.preload:  # the suites' reference training takes optimizer steps
        with contextlib.suppress(ImportError):
            warm_optimizer()


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
        self.sandbox = kept_sandbox(settings.sandbox, settings.warm, settings.preload)
        self.level = self.sandbox.level

    @property
    def description(self) -> str:
        """Read after grading: a warm sandbox knows then whether its workers forked warm."""
        return self.sandbox.description

    def grade(self, jobs: Sequence[Job], settings: Settings, progress: Progress | None,
              settings_for: Callable[[Job], Settings] | None) -> list[SubmissionResult]:
        return grade_jobs(jobs, settings, progress, settings_for)


_SANDBOXES: dict[tuple[str, bool], Sandbox] = {}


def kept_sandbox(level: str, warm: bool, preload: tuple[str, ...] | None = None) -> Sandbox:
    """One sandbox per process and level, kept for the process's life (a warm zygote, and a
    slot leased once) or until :func:`close_sandboxes`. Pool processes each get their own."""
    sandbox = _SANDBOXES.get((level, warm))
    if sandbox is None:
        sandbox = _SANDBOXES[(level, warm)] = make_sandbox(level, warm=warm, preload=preload)
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
    return kept_sandbox(settings.sandbox, settings.warm, settings.preload)


def grade_in_process(job: Job, settings: Settings) -> SubmissionResult:
    """Grade ``job`` on this process's kept sandbox (a pool process, a cluster worker)."""
    return grade_safely(job, settings,
                        kept_sandbox(settings.sandbox, settings.warm, settings.preload))


def grade_safely(job: Job, settings: Settings, sandbox: Sandbox,
                 remembered: Remembered | None = None) -> SubmissionResult:
    """Grade ``job``; a failure of the sandbox is retried on a fresh slot, and what still
    fails is a grader error, never a score."""
    failure: Exception | None = None
    for attempt in range(SANDBOX_ATTEMPTS):
        if attempt:
            sandbox = _fresh_slot(settings)
            set_private(sandbox, settings.private_paths)
        try:
            return grade_job(job, settings, sandbox, remembered=remembered)
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
