"""Shared fixtures (sandbox levels), and the ``needs`` marks: a test that needs what this
machine lacks is skipped here and fails on CI (tests/helpers/resources.py)."""

from __future__ import annotations

import pytest
from helpers.resources import needs_bwrap, require

from grader.sandbox import make_sandbox

LEVELS = ["process", pytest.param("bwrap", marks=needs_bwrap)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        require(*mark.args)


@pytest.fixture(params=LEVELS)
def isolated_sandbox(request: pytest.FixtureRequest):
    """Each real isolation level (the in-process double excluded)."""
    return make_sandbox(request.param)
