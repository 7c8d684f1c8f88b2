"""Shared fixtures (sandbox levels), and the ``needs`` marks: a test that needs what this
machine lacks is skipped here and fails on CI (tests/helpers/resources.py)."""

from __future__ import annotations

import os
import signal

import pytest
from helpers.resources import needs_bwrap, require
from hypothesis import settings

from grader.sandbox import make_sandbox

# A test run started in the background by a non-interactive shell inherits SIGINT ignored
# (POSIX), and so would every `grade` a test starts and interrupts with SIGINT (the interrupt
# tests of test_resume and test_cluster_cli would see a run that ignores Ctrl-C and finishes).
# The tests' processes get Python's default, as when pytest runs from a terminal or CI.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# CI explores the same examples every run (a property that fails there fails again, with the
# same example, on a developer's machine); elsewhere Hypothesis draws new ones each run.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

LEVELS = ["process", pytest.param("bwrap", marks=needs_bwrap)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        require(*mark.args)


@pytest.fixture(params=LEVELS)
def isolated_sandbox(request: pytest.FixtureRequest):
    """Each real isolation level (the in-process double excluded)."""
    return make_sandbox(request.param)
