"""The grader's exception hierarchy.

Every error the grader raises on purpose derives from :class:`GraderError`. Library code raises
these; only ``grader.cli`` turns them into exit codes (``exit_code`` below).

    GraderError                     the grader could not do what it was asked (exit 1)
    ├── ConfigError                 a bad setting, flag or course file; names its source (exit 2)
    ├── CourseError                 the course material (assignment, suite, notebook) is broken
    ├── SandboxFailure              the sandbox could not start or keep a worker: not the
    │                               student's doing (retried, then a grader error)
    ├── ClusterError                the Dask cluster cannot grade (--scheduler)
    └── SubmissionError             one submission cannot be graded; others go on
        ├── ExtractionError         the notebook or .py file cannot be read or parsed
        └── WorkerError             the worker running the student's code failed
            ├── WorkerCrashed       it died (exit, signal, killed parent, memory limit)
            ├── WorkerTimeout       it did not answer in time
            └── ProtocolError       it sent something that is not a valid message

A SubmissionError never stops a run: it becomes that submission's (or that test's) result.
"""

from __future__ import annotations


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


class ClusterError(GraderError):
    """The Dask cluster cannot grade: unreachable, no worker, or a worker refused the run."""
