"""Sandbox levels behind one interface: ``make_sandbox(level).start(limits) -> Worker``.

    bwrap      bubblewrap + unprivileged uid + rlimits (Linux; the default where it works)
    process    a plain subprocess with rlimits (the fallback: laptops, macOS, containers)
    inprocess  a thread in this process: a test double for trusted code only
"""

from __future__ import annotations

import functools

from grader.errors import ConfigError
from grader.sandbox.base import Sandbox


@functools.cache
def _bwrap_problem() -> str | None:
    from grader.sandbox import bwrap

    return bwrap.available()


def make_sandbox(level: str, slot: int = 0) -> Sandbox:
    """The sandbox for ``level``; "auto" picks the strongest level that works here."""
    from grader.sandbox.bwrap import BwrapSandbox
    from grader.sandbox.inprocess import InProcessSandbox
    from grader.sandbox.process import ProcessSandbox

    if level == "auto":
        return BwrapSandbox(slot) if _bwrap_problem() is None else ProcessSandbox()
    if level == "bwrap":
        problem = _bwrap_problem()
        if problem is not None:
            raise ConfigError(f"--sandbox bwrap: unavailable: {problem}")
        return BwrapSandbox(slot)
    if level == "process":
        return ProcessSandbox()
    if level == "inprocess":
        return InProcessSandbox()
    raise ConfigError(f"--sandbox: unknown level {level!r}")
