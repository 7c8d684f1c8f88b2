"""The pytest plugin that runs a suite against one submission, in the grader's process.

It provides the suites' fixtures (``student``, ``seed``, ``rng``, ``device``), the ``points``
and ``budget`` markers, each test's time budget for the worker (grader.suite.budgets), and turns
each
test's report into a TestResult.
Messages shown to students come from the suite's feedback (grader.suite.Feedback) or the
student's own exception, never from the hidden test's source.

The same module runs the public tests in the student's self-check (``grade release`` ships it
with the bundle): :class:`SuitePlugin` holds everything a suite sees, and only where the
``student`` proxy's session comes from differs (:class:`GradingPlugin`: one submission's
worker). Public tests always run with :data:`PUBLIC_SEED`, in the grader and the self-check.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytest

from grader.core.errors import (
    BudgetSpent,
    NotCalledAgain,
    ProtocolError,
    RememberedStop,
    WorkerCrashed,
    WorkerError,
    WorkerTimeout,
)
from grader.core.results import (
    CRASHED,
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    SKIPPED,
    TIMED_OUT,
    Curve,
    TestResult,
)
from grader.submission.proxy import StaleObject, StudentProxy
from grader.submission.session import NotAttempted, StudentError, WorkerSession
from grader.submission.values import explanation
from grader.suite import MAX_CURVES, Feedback, make_curve


def derive_seed(*parts: object) -> int:
    """A 32-bit seed from the parts' text (secret, student, assignment, test)."""
    text = "/".join(str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big")


#: The seed of every public-test run: the self-check and the grader's public run agree on it.
PUBLIC_SEED = 0

# Quiet, and without the plugins that cost time per run and give a grading run nothing
# (unraisableexception's gc.collect alone is ~70 ms a run; logging and capture wrap every test).
PYTEST_ARGS = ("-q", "--tb=no", "--assert=plain", "-W", "ignore", "--capture=no",
               "-o", "python_files=test_*.py",
               *(arg for plugin in ("cacheprovider", "randomly", "unraisableexception",
                                    "threadexception", "logging", "faulthandler", "doctest",
                                    "junitxml", "pastebin", "legacypath", "stepwise",
                                    "nose", "warnings")
                 for arg in ("-p", f"no:{plugin}")))


class BudgetSource(Protocol):
    """Where the grader's test budgets come from (grader.suite.budgets.Budgets)."""

    def for_test(self, name: str, marker_s: float | None = None) -> float: ...


class SuitePlugin:
    """Fixtures, marker and results of a suite run; subclasses say where ``student`` lives."""

    def __init__(self, seed: int, device: str) -> None:
        self.collection_errors: list[str] = []
        self.start_submission(seed, device)

    def start_submission(self, seed: int, device: str) -> None:
        """A submission's run from here on: its seed and device, and no result yet."""
        self.submission_seed = seed
        self.device_name = device
        self.results: list[TestResult] = []
        self._started: dict[str, float] = {}
        self._budgets: dict[str, float] = {}
        self._curves: dict[str, list[Curve]] = {}
        #: the test being set up or run: the fixtures below read it (a fixture asking for
        #: pytest's ``request`` costs a FixtureDef and an inspect.signature per test and use)
        self._item: pytest.Item | None = None

    def session_for(self, item: pytest.Item) -> WorkerSession | None:
        """The worker session that test ``item`` talks to (None: no notebook to load)."""
        raise NotImplementedError

    def proxy_for(self, item: pytest.Item) -> StudentProxy:
        """The ``student`` object of test ``item``."""
        raise NotImplementedError

    def budget_for(self, item: pytest.Item) -> float | None:
        """Test ``item``'s time budget in seconds (None: the session's default): its
        ``budget`` marker here; the grader adds the measured budgets."""
        return marked_budget(item)

    # ------------------------------------------------------------------ fixtures
    def _current(self) -> pytest.Item:
        if self._item is None:
            raise RuntimeError("a suite fixture was used outside a test")
        return self._item

    @pytest.fixture
    def student(self) -> StudentProxy:
        return self.proxy_for(self._current())

    @pytest.fixture
    def seed(self) -> int:
        return derive_seed(self.submission_seed, self._current().name)

    @pytest.fixture
    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    @pytest.fixture
    def device(self) -> str:
        return self.device_name

    @pytest.fixture
    def record_curve(self) -> Callable[[str, Any, Any], None]:
        """``record_curve(name, student_values, reference_values)``: a curve (a loss per
        epoch) on this test's result, pass or fail, drawn in the feedback (grader.suite.make_curve
        bounds it; a test keeps its first MAX_CURVES)."""
        curves = self._curves.setdefault(self._current().nodeid, [])

        def record(name: str, student: Any, reference: Any) -> None:
            if len(curves) < MAX_CURVES:
                curves.append(make_curve(name, student, reference))

        return record

    # ------------------------------------------------------------------ hooks
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points the test is worth")
        config.addinivalue_line("markers", "budget(seconds): the test's time budget for the "
                                "student's code, instead of the one measured from the reference")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr)[-2000:])

    @pytest.hookimpl(tryfirst=True)  # before pytest's own, which sets the fixtures up
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._item = item
        self._started[item.nodeid] = time.monotonic()
        session = self.session_for(item)
        if session is not None:
            budget = self.budget_for(item)
            session.start_test(item.name, budget)
            self._budgets[item.nodeid] = session.test_budget_s

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._result(item, call, report))

    # ------------------------------------------------------------------ classification
    def _result(self, item: pytest.Item, call: pytest.CallInfo[Any],
                report: pytest.TestReport) -> TestResult:
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker else 0.0
        status, message = classify(call.excinfo, report)
        unusual = getattr(self.session_for(item), "unusual", [])
        if status == ERROR and unusual:  # the suite could not use what the student returned
            status, message = FAILED, explanation(unusual)
        doc = (getattr(item, "function", None).__doc__ or "").strip()  # type: ignore[union-attr]
        error = call.excinfo.value if call.excinfo is not None else None
        stop = error.stop if isinstance(error, WorkerError) else None
        session = self.session_for(item)
        return TestResult(
            name=item.name,
            description=doc.splitlines()[0] if doc else item.name,
            status=status,
            score=points if status == PASSED else 0.0,
            max_score=points,
            message=message,
            seed=derive_seed(self.submission_seed, item.name),
            duration_s=round(time.monotonic() - self._started.get(item.nodeid, 0.0), 4),
            function=stop.label if stop is not None else "",
            earlier_test=stop.test if isinstance(error, NotCalledAgain) else "",
            budget_s=round(self._budgets.get(item.nodeid, 0.0), 4),
            worker_s=round(session.worker_s.get(item.name, 0.0), 4) if session else 0.0,
            curves=tuple(self._curves.pop(item.nodeid, ())),
        )


class GradingPlugin(SuitePlugin):
    """Registered with ``pytest.main(..., plugins=[plugin])`` for one submission."""

    def __init__(self, session: WorkerSession, seed: int, device: str,
                 budgets: BudgetSource | None = None) -> None:
        super().__init__(seed, device)
        self.session = session
        self.proxy = StudentProxy(session)
        self.budgets = budgets

    def budget_for(self, item: pytest.Item) -> float | None:
        marked = marked_budget(item)
        return marked if self.budgets is None else self.budgets.for_test(item.name, marked)

    def session_for(self, item: pytest.Item) -> WorkerSession:
        return self.session

    def proxy_for(self, item: pytest.Item) -> StudentProxy:
        return self.proxy


def run_tests(plugin: SuitePlugin, targets: Sequence[str | Path], rootdir: Path,
              inifile: Path, extra: Sequence[str] = ()) -> None:
    """Run pytest on ``targets`` (files, folders or node ids) with ``plugin``, quietly, here."""
    args = [*PYTEST_ARGS, *extra, "--rootdir", str(rootdir), "-c", str(inifile),
            *(str(target) for target in targets)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[plugin])


def marked_budget(item: pytest.Item) -> float | None:
    """The seconds of the test's ``@pytest.mark.budget(seconds)``, if it has one."""
    marker = item.get_closest_marker("budget")
    return float(marker.args[0]) if marker is not None and marker.args else None


def load_notes(session: WorkerSession, machine: str = "the grading machine") -> list[str]:
    """Load once up front, so statements that failed at import reach the feedback."""
    try:
        ready = session.ensure_ready()
    except WorkerError as exc:
        return [f"Loading your notebook's definitions failed: {exc}"]
    return [_load_note(error, machine) for error in ready.errors]


def _load_note(error: str, machine: str) -> str:
    if error.startswith("ModuleNotFoundError"):
        return (f"An import failed on {machine} ({error}). That costs nothing as long as "
                "your graded functions do not need it.")
    return f"This statement failed when your definitions were loaded: {error}"


def classify(excinfo: pytest.ExceptionInfo[BaseException] | None,
             report: pytest.TestReport) -> tuple[str, str]:
    """(status, message for the student) for a finished test."""
    if report.passed:
        return PASSED, ""
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
        return SKIPPED, str(reason).removeprefix("Skipped: ")
    error = excinfo.value if excinfo is not None else None
    if isinstance(error, NotAttempted):
        return NOT_ATTEMPTED, "Not attempted: this function still raises NotImplementedError."
    if isinstance(error, StudentError):
        where = f"\n{error.student_traceback}" if error.student_traceback else ""
        return FAILED, f"Your code raised {error.error_type}: {error.detail}{where}"
    stop: RememberedStop | None = error.stop if isinstance(error, WorkerError) else None
    if isinstance(error, NotCalledAgain):
        return error.stop.status, error.stop.later_message()
    if isinstance(error, BudgetSpent):
        return TIMED_OUT, f"Not run to the end: {error}."
    if isinstance(error, WorkerTimeout):
        if stop is not None:
            return TIMED_OUT, stop.first_message()
        return TIMED_OUT, "Your code did not finish within its time budget (an endless loop?)."
    if isinstance(error, (WorkerCrashed, ProtocolError)):
        if stop is not None:
            return CRASHED, stop.first_message()
        return CRASHED, f"Your code crashed the process running it: {error}"
    if isinstance(error, (Feedback, StaleObject)):
        return FAILED, str(error)
    if isinstance(error, AssertionError):
        return FAILED, _plain_assertion(error)
    kind = type(error).__name__ if error is not None else "unknown error"
    return ERROR, f"The grader could not run this check ({kind}); please tell the course staff."


def _plain_assertion(error: AssertionError) -> str:
    """A bare ``assert`` message without pytest's rewritten source (hidden tests stay hidden),
    its lines as the test wrote them (pytest's rewriting indents a multi-line message's
    continuation lines by two spaces; the self-check may run without rewriting)."""
    if error.args and isinstance(error.args[0], str) and not error.args[0].startswith("assert"):
        return error.args[0].split("\nassert ")[0].replace("\n  ", "\n")
    return "A check of your result failed."
