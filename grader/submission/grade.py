"""Grade one submission: extract its module, start its worker, run the hidden suite in-process.

The suite runs here, in the trusted process, with pytest; the student's module runs in the
worker the sandbox starts. This function never raises for a bad submission: a notebook that
cannot be read, a worker that dies or hangs, all end up in the returned SubmissionResult. It
raises SandboxFailure when the grader's own sandbox failed (the caller retries).

``run_public`` runs an assignment's public tests on a file the same way (a real worker, the
public seed): what the student's self-check must report for that file.

The notebook is read and extracted once, in a child process under the run's read limits: at
discovery (grader.run.discover, ``Job.extraction``), else here (grader.submission.student,
grader.extract.isolate); every text of a result is bounded (:func:`bound_result`) before it
reaches a report or the cache.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import grader
from grader.core.course import Assignment
from grader.core.errors import CourseError
from grader.core.results import NOTHING_HANDED_IN, SubmissionResult, TestResult
from grader.core.settings import Limits, Settings
from grader.core.text import display_path
from grader.extract.isolate import Extraction
from grader.extract.origins import located
from grader.extract.pipeline import StudentModule
from grader.sandbox.base import Sandbox
from grader.submission.bounds import cap_output, clip
from grader.submission.host import SuiteRun, host_for, settle_hosts, warm_hosts
from grader.submission.plugin import (
    PUBLIC_SEED,
    GradingPlugin,
    derive_seed,
    load_notes,
    run_tests,
)
from grader.submission.session import WorkerSession
from grader.submission.stops import Remembered, code_digest
from grader.submission.student import load_student_module as load_file
from grader.submission.student import loaded
from grader.suite.budgets import suite_budgets
from grader.suite.files import suite_hash

#: Caps on a result's texts (characters); the output's cap is Limits.output_bytes.
MAX_MESSAGE = 8000
MAX_ERROR = 2000
MAX_NOTE = 1000
MAX_NOTES = 60


@dataclass(frozen=True)
class Job:
    """What to grade: a student's file for an assignment (path None: nothing handed in).

    ``suite_hash``: the assignment's suite hash as the run planned it (computed once per
    assignment and run, grader.run.grading.plan_jobs); empty: computed when needed."""

    student: str
    assignment: Assignment
    path: Path | None
    matched_by: str = ""
    suite_hash: str = ""
    #: the grader's copy of the bytes read at discovery (grader.run.discover.Snapshots)
    source: Path | None = None
    #: those bytes as discovery read and extracted them for this assignment, under the same
    #: read limits (None: extracted when graded)
    extraction: Extraction | None = field(default=None, compare=False, repr=False)

    @property
    def read_from(self) -> Path | None:
        """Where the file's bytes are read: the discovery's copy, never the student's path
        again when there is one."""
        return self.source or self.path


def job_suite_hash(job: Job) -> str:
    """The suite hash the job was planned with, else the suite's hash now."""
    return job.suite_hash or suite_hash(job.assignment)


def submission_seed(settings: Settings, job: Job) -> int:
    if settings.seed is not None:
        return settings.seed
    return derive_seed(settings.secret, job.student, job.assignment.id)


def load_student_module(job: Job, limits: Limits | None = None
                        ) -> tuple[StudentModule, str | None]:
    """The extracted module (discovery's, where it extracted it), or an empty one and the
    one-line reason it could not be read."""
    if job.extraction is not None:
        return loaded(job.extraction)
    assert job.read_from is not None
    return load_file(job.read_from, job.assignment.functions, (limits or Limits()).reader())


Extracted = tuple[StudentModule, str | None]
#: modules extracted ahead by :func:`prepared`, used by the job's grade_job
_AHEAD: dict[tuple[str, str, Path], Extracted] = {}


def _ahead_key(job: Job) -> tuple[str, str, Path]:
    assert job.read_from is not None
    return (job.student, job.assignment.id, job.read_from)


@contextlib.contextmanager
def prepared(jobs: Sequence[Job], limits: Limits) -> Iterator[None]:
    """While a handful of jobs are graded in this process, one after another: every file that
    discovery did not extract is extracted first (its reader child forked before any thread
    of this process imports),
    then the pytest host of each suite starts in the background
    (grader.submission.host.warm_hosts), so that the suites collect while the first worker
    waits for the zygote (issue 32). What was not used is dropped at the end, and no suite
    is left collecting (a later reader could be forked during it)."""
    settle_hosts()  # (a collection left running by an earlier run: no fork during it)
    for job in jobs:
        if job.read_from is not None and job.extraction is None:
            _AHEAD[_ahead_key(job)] = load_student_module(job, limits)
    suites = dict.fromkeys((job.assignment.hidden_suite, job_suite_hash(job))
                           for job in jobs if job.path is not None)
    if suites:
        warm_hosts([(suite, digest, suite.parent, suite.parent / "pytest.ini")
                    for suite, digest in suites])
    try:
        yield
    finally:
        _AHEAD.clear()
    settle_hosts()  # (after a normal end: an interruption does not wait for a collection)


def _extracted(job: Job, limits: Limits) -> Extracted:
    ahead = _AHEAD.get(_ahead_key(job))  # (kept: a retry on a fresh slot forks no reader)
    return ahead if ahead is not None else load_student_module(job, limits)


def bound_result(result: SubmissionResult, limits: Limits) -> SubmissionResult:
    """``result`` with every text capped: test messages, notes, error and output."""
    def test(t: TestResult) -> TestResult:
        return t if len(t.message) <= MAX_MESSAGE else replace(t, message=clip(t.message,
                                                                                MAX_MESSAGE))

    notes = [clip(note, MAX_NOTE) for note in result.notes[:MAX_NOTES]]
    if len(result.notes) > MAX_NOTES:
        notes.append(f"... and {len(result.notes) - MAX_NOTES} more notes")
    return replace(result, tests=tuple(test(t) for t in result.tests), notes=tuple(notes),
                   error=clip(result.error, MAX_ERROR) if result.error is not None else None,
                   output=cap_output(result.output, limits.output_bytes))


class Laps:
    """Adds the time since the last lap to ``phases[name]`` (nothing when phases is None)."""

    def __init__(self, phases: dict[str, float] | None) -> None:
        self.phases = phases
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        if self.phases is not None:
            now = time.perf_counter()
            self.phases[name] = self.phases.get(name, 0.0) + now - self.last
            self.last = now


def _base_result(job: Job, settings: Settings, level: str) -> SubmissionResult:
    return SubmissionResult(
        student=job.student, assignment=job.assignment.id,
        path=display_path(job.path) if job.path else None, max_score=job.assignment.max_score,
        seed=submission_seed(settings, job), grader_version=grader.__version__,
        suite_hash=job_suite_hash(job), sandbox=level, device=settings.device,
        matched_by=job.matched_by)


def missing_result(job: Job, settings: Settings, level: str) -> SubmissionResult:
    """The result of a (student, assignment) with nothing handed in: worth 0, nothing run.
    ``level``: the sandbox level the run's other results name."""
    return replace(_base_result(job, settings, level), error=NOTHING_HANDED_IN)


def grade_job(job: Job, settings: Settings, sandbox: Sandbox,
              phases: dict[str, float] | None = None,
              select: Callable[[str], bool] | None = None,
              remembered: Remembered | None = None) -> SubmissionResult:
    """Grade one job; the result is complete whatever the student's code does.

    ``phases`` (the benchmark's) gets the seconds spent extracting, starting, loading and
    stopping the worker, and running the suite, added to what it holds. ``select``: only the
    tests whose name it accepts run (``grade validate``'s generated mutants: the tests of the
    mutated function); the result holds only those. ``remembered``: what hung in the
    student's earlier files for this assignment; this file's hangs are added to it."""
    started = time.monotonic()
    laps = Laps(phases)
    base = _base_result(job, settings, sandbox.level)
    if job.path is None:
        return missing_result(job, settings, sandbox.level)
    module, error = _extracted(job, settings.limits)
    laps.lap("extract")
    session = WorkerSession(sandbox, settings.limits, list(module.statements),
                            device=settings.device, seed=base.seed,
                            wall_cap_s=remembered.wall_cap_s if remembered else None)
    code = code_digest(module.statements)
    if remembered is not None:
        session.stops.update(remembered.for_file(code))
    budgets = suite_budgets(job.assignment, base.suite_hash, settings.limits.test_timeout_s,
                            settings.device)
    suite = SuiteRun(session, base.seed, settings.device, budgets, select=select)
    try:
        notes = list(module.notes) + load_notes(session)
        laps.lap("worker")
        run_suite(job.assignment, base.suite_hash, suite)
        laps.lap("suite")
    finally:
        session.close()
        laps.lap("worker")
        if remembered is not None:
            remembered.remember(session.stops, code, job.path.name)
            remembered.spent(session.cpu_used_s, session.cpu_counted)
    if session.grader_failure is not None:  # not the student's doing: no score from this run
        raise session.grader_failure
    if suite.collection_errors:
        lines = [line.strip() for line in suite.collection_errors[0].splitlines()]
        cause = next((line for line in reversed(lines) if line.startswith("E ")), lines[-1])
        raise CourseError(f"{job.assignment.hidden_suite}: the suite does not collect: "
                          f"{cause.removeprefix('E').strip()}")
    tests = tuple(replace(t, message=located(t.message, module.origins)) for t in suite.results)
    return bound_result(replace(
        base, tests=tests, error=error, notes=tuple(notes),
        output=located(session.output(), module.origins),
        duration_s=round(time.monotonic() - started, 3), waits=session.waits,
        wall_waits=session.wall_waits), settings.limits)


def run_suite(assignment: Assignment, digest: str, suite: SuiteRun) -> None:
    """Run the hidden suite with pytest, quietly, in this process (its host: one pytest
    session per suite and process, grader.submission.host)."""
    folder = assignment.hidden_suite.parent
    host_for(assignment.hidden_suite, digest, folder, folder / "pytest.ini").run(suite)


@dataclass(frozen=True)
class PublicRun:
    """The public tests of one file as the grader runs them: through the worker, with the
    public seed. ``loaded``: the names the worker's module holds after loading."""

    tests: tuple[TestResult, ...]
    loaded: tuple[str, ...]
    notes: tuple[str, ...]
    error: str | None


def run_public(path: Path, assignment: Assignment, settings: Settings,
               sandbox: Sandbox) -> PublicRun:
    """Run ``assignment``'s public tests on ``path`` in a worker of ``sandbox``: what the
    student's self-check reports for the same file (the agreement test compares the two)."""
    module, error = load_file(path, assignment.functions, settings.limits.reader())
    session = WorkerSession(sandbox, settings.limits, list(module.statements),
                            device=settings.device, seed=PUBLIC_SEED)
    plugin = GradingPlugin(session, PUBLIC_SEED, settings.device)
    try:
        notes = list(module.notes) + load_notes(session)
        loaded = tuple(session.ready.defined) if session.ready is not None else ()
        # the hidden suites' pytest.ini: the course repository's own config stays out
        run_tests(plugin, [assignment.public_dir], assignment.public_dir,
                  assignment.hidden_suite.parent / "pytest.ini")
    finally:
        session.close()
    if session.grader_failure is not None:
        raise session.grader_failure
    if plugin.collection_errors:
        raise CourseError(f"{assignment.public_dir}: the public tests do not collect")
    return PublicRun(tuple(plugin.results), loaded, tuple(notes), error)
