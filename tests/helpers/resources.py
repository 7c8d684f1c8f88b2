"""What some tests need from the machine: bubblewrap, a writable cgroup tree, Chromium, root
(a worker uid per slot) and a second, unprivileged user.

Where one is missing, a developer's machine skips the tests that need it; CI (``CI=true``)
FAILS them instead, naming what is missing: a CI image that lost bubblewrap or cgroups must
not silently drop half the security tests. Use :func:`needs` as a mark, or :func:`require`
inside a test once it knows (tests/conftest.py applies the marks).
"""

from __future__ import annotations

import os

import pytest

from grader.sandbox.bwrap import available as bwrap_problem

ON_CI = os.environ.get("CI") == "true"
BWRAP_PROBLEM = bwrap_problem()
ROOT_PROBLEM = None if os.geteuid() == 0 else "the tests run as an ordinary user"


def require(problem: str | None, what: str) -> None:
    """Go on when ``problem`` is None; else skip the test here, and fail it on CI."""
    if problem is None:
        return
    if ON_CI:
        pytest.fail(f"CI=true, and this test needs {what}: {problem}", pytrace=False)
    pytest.skip(f"needs {what}: {problem}")


def needs(problem: str | None, what: str) -> pytest.MarkDecorator:
    """A mark: the test runs when ``problem`` is None; else :func:`require` decides."""
    return pytest.mark.needs(problem, what)


needs_bwrap = needs(BWRAP_PROBLEM, "bubblewrap")
needs_root = needs(ROOT_PROBLEM, "root (a worker uid per slot)")
