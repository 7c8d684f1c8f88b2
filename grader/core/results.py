"""Plain results of a grading run: what the runner produces and the reports render.

No logic lives here beyond sums; formatting belongs to grader.report's templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.core.deadlines import GradeRecord

# Test statuses. Only PASSED earns points.
PASSED = "passed"
FAILED = "failed"
NOT_ATTEMPTED = "not attempted"
TIMED_OUT = "timed out"
CRASHED = "crashed"
SKIPPED = "skipped"
ERROR = "grader error"
STATUSES = (PASSED, FAILED, NOT_ATTEMPTED, TIMED_OUT, CRASHED, SKIPPED, ERROR)
#: The error of a result with nothing handed in (a file in the wrong format says more).
NOTHING_HANDED_IN = "No notebook was handed in for this assignment."


@dataclass(frozen=True)
class Curve:
    """A curve a test recorded (``record_curve``): the student's values beside the reference's,
    one per epoch, at most grader.suite.MAX_CURVE_POINTS each (``step``: epochs per point when
    a longer curve was thinned); ``None`` where a value was not finite (nan or inf)."""

    name: str
    student: tuple[float | None, ...]
    reference: tuple[float | None, ...]
    step: int = 1


@dataclass(frozen=True)
class TestResult:
    """One hidden test's outcome for one submission.

    ``function``: what of the student's code timed out or crashed its process in this test
    (``sigmoid``, ``SimpleNN.__call__``; "" otherwise). ``earlier_test``: set when that
    happened in an earlier test, so this test failed without calling it again
    (grader.submission.stops). ``budget_s``: the test's time budget; ``worker_s``: the time the
    grader waited on the student's process in it."""

    __test__ = False  # not a pytest test class

    name: str
    description: str
    status: str
    score: float
    max_score: float
    message: str = ""
    seed: int = 0
    duration_s: float = 0.0
    function: str = ""
    earlier_test: str = ""
    budget_s: float = 0.0
    worker_s: float = 0.0
    curves: tuple[Curve, ...] = ()


@dataclass(frozen=True)
class ManualGrade:
    """A written question graded by a TA (grade review): ``score`` None while it is pending
    (never 0 until graded); ``items``: the rubric items applied, as (label, points)."""

    question: str
    max_score: float
    score: float | None
    prompt: str = ""
    items: tuple[tuple[str, float], ...] = ()
    comment: str = ""
    answered: bool = True

    @property
    def pending(self) -> bool:
        return self.score is None


@dataclass(frozen=True)
class Attempt:
    """Another notebook a student handed in for the same assignment."""

    path: str
    score: float


@dataclass(frozen=True)
class SubmissionResult:
    """One (student, assignment): its tests, score and everything needed to replay it.

    ``grader_error``: the grader failed on this submission (its sandbox could not run it even
    on a retry, or a bug): its score is no score; reports say status ``error``, ``grade ci``
    exits 1, and the result is never cached, so a rerun grades it again.

    ``grade``: set after grading, never cached (a policy or override change needs no regrade).

    ``waits``: the deadlines the grader waited out for this submission (test and load
    timeouts); a hanging function costs one, then is not called again. ``wall_waits``: those
    of them the wall clock ended (no CPU time counted, or the backstop fired): a busy machine
    can cause these, never one that ended on the worker's own CPU time (grader.run.confirm
    grades again only these)."""

    student: str
    assignment: str
    path: str | None
    tests: tuple[TestResult, ...] = ()
    max_score: float = 100.0
    error: str | None = None
    notes: tuple[str, ...] = ()
    output: str = ""
    seed: int = 0
    duration_s: float = 0.0
    grader_version: str = ""
    suite_hash: str = ""
    sandbox: str = ""
    device: str = "cpu"
    matched_by: str = ""
    other_attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    grader_error: bool = False
    waits: int = 0
    wall_waits: int = 0
    #: the grade of record (grader.core.grade_record): late penalty, grace days, overrides;
    #: None when the course has no deadlines, times or overrides for it
    grade: GradeRecord | None = None

    @property
    def raw_score(self) -> float:
        """The autograde: the sum of the tests' points."""
        return round(sum(test.score for test in self.tests), 6)

    #: written questions (grader.review.merge); max_score then includes their points
    manual: tuple[ManualGrade, ...] = ()

    @property
    def score(self) -> float:
        """The score of record: the final score once the late policy and overrides are
        applied (``grade``), else the autograde; plus the written questions graded so far
        (the late policy applies to the autograde only)."""
        code = self.grade.final_score if self.grade is not None else self.raw_score
        return round(code + sum(m.score for m in self.manual if m.score is not None), 6)

    @property
    def pending(self) -> tuple[str, ...]:
        """The written questions not graded yet."""
        return tuple(m.question for m in self.manual if m.pending)

    @property
    def missing(self) -> bool:
        return self.path is None


@dataclass(frozen=True)
class StudentInfo:
    """Who a student of a run is, as the source's layout (an LMS download) names them.

    ``student``: the run's id (the roster's ``student`` when the roster knows them, else the
    layout's id); ``lms_id``: the layout's id (Canvas user id, Moodle participant id,
    Gradescope SID, login); ``name`` and ``email`` as the layout gives them."""

    student: str
    lms_id: str = ""
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class RunResult:
    """A whole run: every (student, assignment) and what could not be matched.

    ``layout``: the source's layout (grader.run.layouts); ``students``: who each student is
    there (empty for per-student folders); ``assignments``: the assignments graded."""

    results: tuple[SubmissionResult, ...]
    unrecognized: tuple[tuple[str, str], ...] = ()
    sandbox: str = ""
    duration_s: float = 0.0
    graded: int = 0  # submissions graded by this run
    reused: int = 0  # submissions whose result came from the output folder's cache
    layout: str = ""
    students: tuple[StudentInfo, ...] = ()
    assignments: tuple[str, ...] = ()


def grader_failed(result: SubmissionResult) -> bool:
    """The grader (not the student's code) failed: on the submission or on one of its tests."""
    return result.grader_error or any(t.status == ERROR for t in result.tests)
