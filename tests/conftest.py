"""Shared fixtures (sandbox levels), and the ``needs`` marks: a test that needs what this
machine lacks is skipped here and fails on CI (tests/helpers/resources.py)."""

from __future__ import annotations

import os

import pytest
from helpers.resources import needs_bwrap, require
from hypothesis import settings

from grader.sandbox import make_sandbox

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
