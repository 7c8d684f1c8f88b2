"""The grader's exception hierarchy.

Every error the grader raises on purpose derives from :class:`GraderError`. Library code raises
these; only ``grader.cli`` turns them into exit codes (``exit_code`` below).

    GraderError                     the grader could not do what it was asked (exit 1)
    ├── ConfigError                 a bad setting, flag or course file; names its source (exit 2)
    ├── CourseError                 the course material (assignment, suite, notebook) is broken
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
