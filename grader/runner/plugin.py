"""The pytest plugin that runs a hidden suite against one submission, in the grader's process.

It provides the suite's fixtures (``student``, ``seed``, ``rng``, ``device``), the ``points``
marker, a per-test deadline for the worker, and turns each test's report into a TestResult.
Messages shown to students come from the suite's feedback (grader.suite.Feedback) or the
student's own exception, never from the hidden test's source.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import pytest

from grader.errors import ProtocolError, WorkerCrashed, WorkerTimeout
from grader.results import (
    CRASHED,
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    SKIPPED,
    TIMED_OUT,
    TestResult,
)
from grader.runner.proxy import StaleObject, StudentProxy
from grader.runner.session import NotAttempted, StudentError, WorkerSession
from grader.suite import Feedback


def derive_seed(*parts: object) -> int:
    """A 32-bit seed from the parts' text (secret, student, assignment, test)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big")


class GradingPlugin:
    """Registered with ``pytest.main(..., plugins=[plugin])`` for one submission."""

    def __init__(self, session: WorkerSession, seed: int, device: str) -> None:
        self.session = session
        self.proxy = StudentProxy(session)
        self.submission_seed = seed
        self.device_name = device
        self.results: list[TestResult] = []
        self.collection_errors: list[str] = []
        self._started: dict[str, float] = {}

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture
    def student(self) -> StudentProxy:
        return self.proxy

    @pytest.fixture
    def seed(self, request: pytest.FixtureRequest) -> int:
        return derive_seed(self.submission_seed, request.node.name)

    @pytest.fixture
    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    @pytest.fixture
    def device(self) -> str:
        return self.device_name

    # ------------------------------------------------------------------ hooks
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points the test is worth")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr)[-2000:])

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.monotonic()
        self.session.start_test()

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
        doc = (getattr(item, "function", None).__doc__ or "").strip()  # type: ignore[union-attr]
        return TestResult(
            name=item.name,
            description=doc.splitlines()[0] if doc else item.name,
            status=status,
            score=points if status == PASSED else 0.0,
            max_score=points,
            message=message,
            seed=derive_seed(self.submission_seed, item.name),
            duration_s=round(time.monotonic() - self._started.get(item.nodeid, 0.0), 4),
        )


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
    if isinstance(error, WorkerTimeout):
        return TIMED_OUT, "Your code did not finish within the time limit (an endless loop?)."
    if isinstance(error, (WorkerCrashed, ProtocolError)):
        return CRASHED, f"Your code crashed the process running it: {error}"
    if isinstance(error, (Feedback, StaleObject)):
        return FAILED, str(error)
    if isinstance(error, AssertionError):
        return FAILED, _plain_assertion(error)
    kind = type(error).__name__ if error is not None else "unknown error"
    return ERROR, f"The grader could not run this check ({kind}); please tell the course staff."


def _plain_assertion(error: AssertionError) -> str:
    """A bare ``assert`` message without pytest's rewritten source (hidden tests stay hidden)."""
    if error.args and isinstance(error.args[0], str) and not error.args[0].startswith("assert"):
        return error.args[0].split("\nassert ")[0]
    return "A check of your result failed."
