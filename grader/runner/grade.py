"""Grade one submission: extract its module, start its worker, run the hidden suite in-process.

The suite runs here, in the trusted process, with pytest; the student's module runs in the
worker the sandbox starts. This function never raises for a bad submission: a notebook that
cannot be read, a worker that dies or hangs, all end up in the returned SubmissionResult.
The notebook is read and extracted in a child process under the run's read limits
(grader.notebook.isolate), and every text of the result is bounded (:func:`bound_result`)
before it reaches a report or the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import grader
from grader.course import Assignment
from grader.errors import CourseError, WorkerError
from grader.notebook.extract import StudentModule
from grader.notebook.isolate import extract_file
from grader.results import SubmissionResult, TestResult
from grader.runner.plugin import GradingPlugin, derive_seed
from grader.runner.session import WorkerSession, clip
from grader.sandbox.base import Sandbox
from grader.settings import Limits, Settings

# Quiet, and without the plugins that cost time per run and give a grading run nothing
# (unraisableexception's gc.collect alone is ~70 ms a run; logging and capture wrap every test).
PYTEST_ARGS = ("-q", "--tb=no", "--assert=plain", "-W", "ignore", "--capture=no",
               "-o", "python_files=test_*.py",
               *(arg for plugin in ("cacheprovider", "randomly", "unraisableexception",
                                    "threadexception", "logging", "faulthandler", "doctest",
                                    "junitxml", "pastebin", "legacypath", "stepwise",
                                    "nose", "warnings")
                 for arg in ("-p", f"no:{plugin}")))


@dataclass(frozen=True)
class Job:
    """What to grade: a student's file for an assignment (path None: nothing handed in)."""

    student: str
    assignment: Assignment
    path: Path | None
    matched_by: str = ""


def suite_hash(assignment: Assignment) -> str:
    """A short hash of the hidden suite, recorded with every result."""
    try:
        data = assignment.hidden_suite.read_bytes()
    except OSError as exc:
        raise CourseError(f"{assignment.hidden_suite}: cannot read the hidden suite") from exc
    return hashlib.sha256(data).hexdigest()[:16]


def submission_seed(settings: Settings, job: Job) -> int:
    if settings.seed is not None:
        return settings.seed
    return derive_seed(settings.secret, job.student, job.assignment.id)


#: Caps on a result's texts (characters); the output's cap is Limits.output_bytes.
MAX_MESSAGE = 8000
MAX_ERROR = 2000
MAX_NOTE = 1000
MAX_NOTES = 60


def load_student_module(job: Job, limits: Limits | None = None
                        ) -> tuple[StudentModule, str | None]:
    """The extracted module, or an empty one and the one-line reason it could not be read."""
    assert job.path is not None
    found = extract_file(job.path, job.assignment.functions, (limits or Limits()).reader())
    if found.module is None:
        return StudentModule(statements=(), defined=(), notes=()), found.error or "unreadable"
    return found.module, None


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
                   output=clip(result.output, limits.output_bytes))


def grade_job(job: Job, settings: Settings, sandbox: Sandbox) -> SubmissionResult:
    """Grade one job; the result is complete whatever the student's code does."""
    started = time.monotonic()
    base = SubmissionResult(
        student=job.student, assignment=job.assignment.id,
        path=str(job.path) if job.path else None, max_score=job.assignment.max_score,
        seed=submission_seed(settings, job), grader_version=grader.__version__,
        suite_hash=suite_hash(job.assignment), sandbox=sandbox.level, device=settings.device,
        matched_by=job.matched_by)
    if job.path is None:
        return replace(base, error="No notebook was handed in for this assignment.")
    module, error = load_student_module(job, settings.limits)
    session = WorkerSession(sandbox, settings.limits, list(module.statements),
                            device=settings.device)
    plugin = GradingPlugin(session, base.seed, settings.device)
    try:
        notes = list(module.notes) + _load_notes(session)
        run_suite(job.assignment, plugin)
    finally:
        session.close()
    if plugin.collection_errors:
        lines = [line.strip() for line in plugin.collection_errors[0].splitlines()]
        cause = next((line for line in reversed(lines) if line.startswith("E ")), lines[-1])
        raise CourseError(f"{job.assignment.hidden_suite}: the suite does not collect: "
                          f"{cause.removeprefix('E').strip()}")
    return bound_result(replace(
        base, tests=tuple(plugin.results), error=error, notes=tuple(notes),
        output=session.output(), duration_s=round(time.monotonic() - started, 3)),
        settings.limits)


def _load_notes(session: WorkerSession) -> list[str]:
    """Load once up front, so statements that failed at import reach the feedback."""
    try:
        ready = session.ensure_ready()
    except WorkerError as exc:
        return [f"Loading your notebook's definitions failed: {exc}"]
    return [_load_note(error) for error in ready.errors]


def _load_note(error: str) -> str:
    if error.startswith("ModuleNotFoundError"):
        return (f"An import failed on the grading machine ({error}). This costs nothing "
                "unless a graded function uses that package.")
    return f"This statement failed when your definitions were loaded: {error}"


def run_suite(assignment: Assignment, plugin: GradingPlugin) -> None:
    """Run the hidden suite with pytest, quietly, in this process."""
    args = [*PYTEST_ARGS, "--rootdir", str(assignment.hidden_suite.parent),
            "-c", str(assignment.hidden_suite.parent / "pytest.ini"),
            str(assignment.hidden_suite)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[plugin])
