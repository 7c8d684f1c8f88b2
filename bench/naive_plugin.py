"""The baselines' fixtures: the hidden suites run against a module in this very process.

Used by bench/run.py's naive baseline (``python -m pytest -p naive_plugin`` in a fresh process
per submission, module from ``BENCH_STUDENT``: a JSON list of the extracted statements) and by
its nbconvert baseline (the notebook's last cell sets ``NAMESPACE`` to the kernel's globals).
No isolation, no deadlines: the way a hand-rolled grader or nbgrader runs tests.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import numpy as np
import pytest

from grader.runner.plugin import derive_seed

NAMESPACE: dict[str, Any] | None = None
SEED: int | None = None


class CallOutcome:
    def __init__(self, value: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.value, self.args, self.kwargs = value, args, kwargs


class LocalStudent:
    """The ``student`` fixture's interface (grader.runner.proxy), on a local namespace."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._ns = namespace

    def call(self, name: str, *args: Any, return_args: bool = False, **kwargs: Any) -> Any:
        args, kwargs = copy.deepcopy(list(args)), copy.deepcopy(kwargs)
        value = self._ns[name](*args, **kwargs)
        return CallOutcome(value, args, kwargs) if return_args else value

    def get(self, name: str) -> Any:
        return self._ns[name]

    def defines(self, name: str) -> bool:
        return name in self._ns

    def probe(self, source: str, *args: Any) -> Any:
        namespace: dict[str, Any] = {}
        exec(compile(source, "<probe>", "exec"), namespace)
        return namespace["probe"](*args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


def load(statements: list[str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "student"}
    pending = list(statements)
    for _ in range(3):  # a statement may need a name a later one defines
        failed = []
        for source in pending:
            try:
                exec(compile(source, "<student>", "exec"), namespace)
            except Exception:  # noqa: BLE001 - the student's statement; the tests will tell
                failed.append(source)
        if len(failed) == len(pending):
            break
        pending = failed
    return namespace


def _namespace() -> dict[str, Any]:
    global NAMESPACE
    if NAMESPACE is None:
        with open(os.environ["BENCH_STUDENT"], encoding="utf-8") as handle:
            NAMESPACE = load(json.load(handle))
    return NAMESPACE


def _seed() -> int:
    return SEED if SEED is not None else int(os.environ.get("BENCH_SEED", "0"))


_score = [0.0]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points the test is worth")


@pytest.fixture
def student() -> LocalStudent:
    return LocalStudent(_namespace())


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    return derive_seed(_seed(), request.node.name)


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture
def device() -> str:
    return "cpu"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("points")
    if report.when == "call" and report.passed and marker:
        _score[0] += float(marker.args[0])


def pytest_sessionfinish(session: pytest.Session) -> None:
    print(f"\nBENCH_SCORE {_score[0]:g}")
    _score[0] = 0.0
