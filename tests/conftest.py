"""Shared fixtures: sandbox levels available on this machine."""

from __future__ import annotations

import pytest

from grader.sandbox import make_sandbox
from grader.sandbox.bwrap import available as bwrap_problem

BWRAP_PROBLEM = bwrap_problem()
LEVELS = ["process", pytest.param("bwrap", marks=pytest.mark.skipif(
    BWRAP_PROBLEM is not None, reason=f"bubblewrap unavailable: {BWRAP_PROBLEM}"))]


@pytest.fixture(params=LEVELS)
def isolated_sandbox(request: pytest.FixtureRequest):
    """Each real isolation level (the in-process double excluded)."""
    return make_sandbox(request.param)
