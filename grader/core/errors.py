"""The grader's exception hierarchy.

Every error the grader raises on purpose derives from :class:`GraderError`. Library code raises
these; only ``grader.cli.main`` turns them into exit codes (``exit_code`` below).

    GraderError                     the grader could not do what it was asked (exit 1)
    ├── ConfigError                 a bad setting, flag or course file; names its source (exit 2)
    ├── CourseError                 the course material (assignment, suite, notebook) is broken
    ├── SandboxFailure              the sandbox could not start or keep a worker: not the
    │                               student's doing (retried, then a grader error)
    ├── ClusterError                the Dask cluster cannot grade (--scheduler)
    ├── SubmissionError             one submission cannot be graded; others go on
    │   ├── ExtractionError         the notebook or .py file cannot be read or parsed
    │   └── WorkerError             the worker running the student's code failed
    │       ├── WorkerCrashed       it died (exit, signal, killed parent, memory limit)
    │       ├── WorkerTimeout       it did not answer in time
    │       └── ProtocolError       it sent something that is not a valid message
    ├── StudentError                the student's code raised inside a check: that check's
    │   │                           verdict (failed), never a grader failure
    │   └── NotAttempted            it still raises the stub's NotImplementedError
    └── StaleObject                 a check used an object of a worker since restarted (an
                                    earlier call crashed it): the check fails

A SubmissionError never stops a run: it becomes that submission's (or that test's) result.
Suites import StudentError and NotAttempted from ``grader.suite`` (the public suite API).

Outside the tree, on purpose: ``grader.suite.Feedback`` is an AssertionError (a check that
failed, pytest's own kind of failure); the worker's ``WireError``/``NotData`` (protocol) and
``IsolationError`` live in the standalone worker, which imports nothing from ``grader``; the
grader side turns them into ProtocolError or SandboxFailure.
"""

from __future__ import annotations

from typing import Protocol


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""

    exit_code = 1


class ConfigError(GraderError):
    """A setting, flag, environment variable or course file holds a bad value."""

    exit_code = 2


class CourseError(GraderError):
    """Course material (assignment metadata, hidden suite, reference notebook) is broken."""


class SandboxFailure(GraderError):
    """A worker could not be started, or its zygote stopped answering: a failure of the grader's
    own machinery, never the student's. The submission is retried on a fresh slot, then
    recorded as a grader error (status ``error``), never as a score."""


class SubmissionError(GraderError):
    """One submission cannot be graded; the run goes on with the others."""


class ExtractionError(SubmissionError):
    """A notebook or .py submission cannot be read or turned into a module."""


class WorkerError(SubmissionError):
    """The process running student code failed."""


class WorkerCrashed(WorkerError):
    """The worker process died."""


class WorkerTimeout(WorkerError):
    """The worker did not answer within its time limit."""


class ProtocolError(WorkerError):
    """The worker sent bytes that are not a valid, size-capped message."""


class ReportedFailure(Protocol):
    """What the worker reports about an exception of the student's (``protocol.Failure``)."""

    error_type: str
    message: str
    traceback: str


class StudentError(GraderError):
    """The student's code raised; carries only what the worker reported about its own frames."""

    def __init__(self, failure: ReportedFailure) -> None:
        self.error_type = failure.error_type
        self.detail = failure.message
        self.student_traceback = failure.traceback
        super().__init__(f"{failure.error_type}: {failure.message}")


class NotAttempted(StudentError):
    """The student's function still raises the stub's NotImplementedError."""


class StaleObject(GraderError):
    """A suite used a handle from a worker that has since been restarted: the check fails with
    this message (an earlier call of the student's crashed the worker)."""

    def __init__(self, type_name: str) -> None:
        super().__init__(f"the {type_name} object was lost when an earlier call crashed")


class ClusterError(GraderError):
    """The Dask cluster cannot grade: unreachable, no worker, or a worker refused the run."""
