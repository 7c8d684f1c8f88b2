"""The grader's one exception tree: every exception the grader raises on purpose is here.

Three branches under one root, because they mean three different things to the person who
reads the message: the grader failed, the instructor's setup is wrong, or the student's code
decided a result. Library code raises these; only ``grader.cli`` turns them into exit codes
(``exit_code`` below; 1 unless stated).

    NNGraderError                   root: caught by the CLI, printed as one line
    ├── GraderError                 the grader's own machinery could not do what was asked
    │   ├── SandboxFailure          the sandbox could not start or keep a worker: not the
    │   │                           student's doing (retried, then a grader error)
    │   ├── HostGone                the pytest session hosting a suite ended early
    │   ├── ClusterError            the Dask cluster cannot grade (--scheduler)
    │   │   └── Refused             one Dask worker cannot grade a task as asked (retried)
    │   └── Interrupted             the run was interrupted; finished work is kept (exit 130)
    ├── SetupError                  what the grader was given to work with is wrong
    │   ├── ConfigError             a bad setting, flag or course file; names its source (exit 2)
    │   ├── CourseError             the course material (assignment, suite, notebook) is broken
    │   ├── BadRecord               a CI record given to ``collect`` cannot be used
    │   └── StaleWrite              a TA's save in ``grade review`` came after another TA's
    │                               (refused and shown, HTTP 409; nothing is lost)
    └── Verdict                     the student's file or code decided the result: a score, never
        │                           a grader failure
        ├── SubmissionError         one submission cannot be graded as a whole; others go on
        │   ├── ExtractionError     the notebook or .py file cannot be read or parsed
        │   └── WorkerError         the worker running the student's code failed
        │       ├── WorkerCrashed   it died (exit, signal, killed parent, memory limit)
        │       │   └── CallCrashed     ... inside a call, which is not made again
        │       ├── WorkerTimeout   it did not answer in time
        │       │   ├── CallTimedOut    ... inside a call, which is not made again
        │       │   └── BudgetSpent     the submission's or test's time budget is spent
        │       ├── ProtocolError   it sent something that is not a valid message
        │       └── NotCalledAgain  refused: what it needs hung or crashed in an earlier test
        ├── StudentError            the student's code raised inside a check: that check's
        │   │                       verdict (failed)
        │   └── NotAttempted        it still raises the stub's NotImplementedError
        └── StaleObject             a check used an object of a worker since restarted (an
                                    earlier call crashed it): the check fails

A Verdict never stops a run: it becomes that submission's (or that test's) result. A
GraderError on one submission becomes a grader error for it (status ``error``, no score);
a SetupError stops the command. Suites import StudentError and NotAttempted from
``grader.suite`` (the public suite API). An ExtractionError raised while reading the course's
own reference notebook (``grade stubs``, ``release``) reaches the CLI like any other error.

Outside the tree, on purpose: ``grader.suite.Feedback`` is an AssertionError (a check that
failed, pytest's own kind of failure); the worker's ``WireError``/``NotData``
(grader.worker.protocol) and ``IsolationError`` (grader.worker.isolate) live in the standalone
worker, which imports nothing from ``grader`` (it runs in a bare sandbox and ships in the
student bundle); the grader side turns them into ProtocolError or SandboxFailure. The student
bundle's self-check (grader/templates/bundle/selfcheck/) has its own ``SelfCheckError``: it runs
in the student's Python, without the grader installed.
"""

from __future__ import annotations

from typing import Protocol


class NNGraderError(Exception):
    """Root of every exception the grader raises on purpose; the CLI prints it as one line."""

    exit_code = 1


# --- the grader's own failures -------------------------------------------------------------

class GraderError(NNGraderError):
    """The grader's own machinery could not do what it was asked."""


class SandboxFailure(GraderError):
    """A worker could not be started, or its zygote stopped answering: a failure of the grader's
    own machinery, never the student's. The submission is retried on a fresh slot, then
    recorded as a grader error (status ``error``), never as a score."""


class HostGone(GraderError):
    """The pytest session hosting a suite ended before it ran the submission."""


class ClusterError(GraderError):
    """The Dask cluster cannot grade: unreachable, no worker, or a worker refused the run."""


class Refused(ClusterError):
    """This Dask worker cannot grade the task as the client asked (its course or grader differs,
    no GPU, no such sandbox level). Dask retries the task; the client stops if it persists."""


class Interrupted(GraderError):
    """The run was interrupted; finished submissions are kept for the next run."""

    exit_code = 130


# --- the setup the grader was given ---------------------------------------------------------

class SetupError(NNGraderError):
    """What the grader was given to work with (settings, flags, course, records) is wrong."""


class ConfigError(SetupError):
    """A setting, flag, environment variable or course file holds a bad value."""

    exit_code = 2


class CourseError(SetupError):
    """Course material (assignment metadata, hidden suite, reference notebook) is broken."""


class BadRecord(SetupError):
    """A CI record given to ``grade collect`` cannot be used; the message says why."""


class StaleWrite(SetupError):
    """Someone else saved this grade or rubric item since it was loaded (``grade review``):
    the save is refused and the page shows what is stored now."""


# --- verdicts about the student's file and code ---------------------------------------------

class Verdict(NNGraderError):
    """The student's file or code decided a result (a test's or a submission's)."""


class RememberedStop(Protocol):
    """What is remembered of a call that hung or crashed its worker (grader.submission.stops)."""

    @property
    def label(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def test(self) -> str: ...
    def first_message(self) -> str: ...
    def later_message(self) -> str: ...


class SubmissionError(Verdict):
    """One submission cannot be graded as a whole; the run goes on with the others."""


class ExtractionError(SubmissionError):
    """A notebook or .py submission cannot be read or turned into a module."""


class WorkerError(SubmissionError):
    """The process running student code failed. ``stop``: what is remembered of the call that
    failed, so that it is not made again (None: not blamed on one call)."""

    stop: RememberedStop | None = None


class WorkerCrashed(WorkerError):
    """The worker process died."""


class WorkerTimeout(WorkerError):
    """The worker did not answer within its time limit."""


class ProtocolError(WorkerError):
    """The worker sent bytes that are not a valid, size-capped message."""


class CallTimedOut(WorkerTimeout):
    """A call hung; ``stop`` says what is remembered (None: not blamed on the call)."""

    def __init__(self, message: str, stop: RememberedStop | None) -> None:
        super().__init__(message)
        self.stop = stop


class CallCrashed(WorkerCrashed):
    """The worker died inside a call; ``stop`` is what is remembered."""

    def __init__(self, message: str, stop: RememberedStop | None) -> None:
        super().__init__(message)
        self.stop = stop


class NotCalledAgain(WorkerError):
    """A request refused because what it needs hung or crashed in an earlier test."""

    stop: RememberedStop

    def __init__(self, stop: RememberedStop) -> None:
        super().__init__(stop.later_message())
        self.stop = stop


class BudgetSpent(WorkerTimeout):
    """The submission's (or the test's) time budget is spent: nothing more is run."""


class ReportedFailure(Protocol):
    """What the worker reports about an exception of the student's (``protocol.Failure``)."""

    error_type: str
    message: str
    traceback: str


class StudentError(Verdict):
    """The student's code raised; carries only what the worker reported about its own frames."""

    def __init__(self, failure: ReportedFailure) -> None:
        self.error_type = failure.error_type
        self.detail = failure.message
        self.student_traceback = failure.traceback
        super().__init__(f"{failure.error_type}: {failure.message}")


class NotAttempted(StudentError):
    """The student's function still raises the stub's NotImplementedError."""


class StaleObject(Verdict):
    """A suite used a handle from a worker that has since been restarted: the check fails with
    this message (an earlier call of the student's crashed the worker)."""

    def __init__(self, type_name: str) -> None:
        super().__init__(f"the {type_name} object was lost when an earlier call crashed")
