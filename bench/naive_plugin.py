"""The baselines' fixtures: the grader's own suite plugin over the in-process worker double.

Both baselines run the same hidden suite with the same fixtures, seeds and scoring as the
grader (grader.submission.plugin.GradingPlugin), over grader.sandbox.inprocess (the student's
statements run in this very process): a baseline's score equals the grader's, and only the way
it runs differs. The naive baseline is ``python -m pytest -p naive_plugin`` in a fresh process
per submission (statements from the JSON file ``BENCH_STUDENT``, seed ``BENCH_SEED``); the
nbconvert baseline's appended cell sets ``STATEMENTS`` and ``SEED`` after the kernel has run the
whole notebook, as nbgrader does.
"""

from __future__ import annotations

import json
import os

import pytest

from grader.core.settings import Limits
from grader.sandbox.inprocess import InProcessSandbox
from grader.submission.plugin import GradingPlugin
from grader.submission.session import WorkerSession

STATEMENTS: list[str] | None = None
SEED: int | None = None
_PLUGIN: list[GradingPlugin] = []


def pytest_configure(config: pytest.Config) -> None:
    statements = STATEMENTS
    if statements is None:
        with open(os.environ["BENCH_STUDENT"], encoding="utf-8") as handle:
            statements = json.load(handle)
    seed = SEED if SEED is not None else int(os.environ.get("BENCH_SEED", "0"))
    session = WorkerSession(InProcessSandbox(), Limits(), list(statements))
    plugin = GradingPlugin(session, seed, "cpu")
    config.pluginmanager.register(plugin, "bench-grading")
    _PLUGIN[:] = [plugin]


def pytest_sessionfinish(session: pytest.Session) -> None:
    plugin = _PLUGIN.pop()
    plugin.session.close()
    print(f"\nBENCH_SCORE {sum(result.score for result in plugin.results):g}")
