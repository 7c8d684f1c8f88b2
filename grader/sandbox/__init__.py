"""Sandbox levels behind one interface: ``make_sandbox(level).start(limits) -> Worker``.

    bwrap      bubblewrap namespaces + unprivileged uid + cgroups or rlimits (Linux; the default
               where it works)
    process    a plain subprocess (its own uid when root) + cgroups or rlimits (the fallback:
               laptops, macOS, containers without namespaces)
    inprocess  a thread in this process: a test double for trusted code only

``warm=True`` wraps bwrap or process in a zygote that forks each worker with numpy and torch
already imported, each in a world of its own the zygote and other workers cannot reach
(milliseconds instead of seconds per start); where a level cannot promise that, it starts cold
workers and says why (:mod:`grader.sandbox.zygote`).

Each grading process leases a slot (:mod:`grader.sandbox.slots`); as root the slot is the
worker's uid, so parallel workers never share one.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from grader.core.errors import ConfigError
from grader.sandbox.base import Sandbox

if TYPE_CHECKING:
    from grader.sandbox.process import ColdSandbox


@functools.cache
def _bwrap_problem() -> str | None:
    from grader.sandbox import bwrap

    return bwrap.available()


def make_sandbox(level: str, slot: int | None = None, warm: bool = False,
                 preload: tuple[str, ...] | None = None) -> Sandbox:
    """The sandbox for ``level``; "auto" picks the strongest level that works here.

    ``slot`` None leases this process's own slot (see :mod:`grader.sandbox.slots`). ``warm``
    forks workers from a zygote started at that level (:mod:`grader.sandbox.zygote`), which
    imports ``preload`` first (None: its default list).
    """
    if level == "inprocess":
        from grader.sandbox.inprocess import InProcessSandbox

        return InProcessSandbox()
    cold = cold_sandbox(level, slot)
    if warm:
        from grader.sandbox.zygote import ZygoteSandbox

        return ZygoteSandbox(cold, preload)
    return cold


def cold_sandbox(level: str, slot: int | None = None) -> ColdSandbox:
    """A level that starts each worker as a fresh process: bwrap, process, or "auto"."""
    from grader.sandbox import process
    from grader.sandbox.bwrap import BwrapSandbox

    if level == "auto":
        return BwrapSandbox(slot) if _bwrap_problem() is None else cold_sandbox("process", slot)
    if level == "bwrap":
        problem = _bwrap_problem()
        if problem is not None:
            raise ConfigError(f"--sandbox bwrap: unavailable: {problem}")
        return BwrapSandbox(slot)
    if level == "process":
        problem = process.problem()
        if problem is not None:
            raise ConfigError(f"--sandbox process: unavailable: {problem}")
        return process.ProcessSandbox(slot)
    raise ConfigError(f"--sandbox: unknown level {level!r}")


def set_private(sandbox: Sandbox, paths: tuple[str, ...]) -> None:
    """Hide ``paths`` from the workers ``sandbox`` starts from now on, where it is the process
    level and can (grader.sandbox.private; bwrap hides everything it does not bind). A warm
    zygote started with other paths hidden is closed: the next worker starts a fresh one."""
    base = getattr(sandbox, "base", sandbox)
    if getattr(base, "private", None) is None or base.private == paths:
        return
    base.private = paths
    if base is not sandbox:
        sandbox.close()
