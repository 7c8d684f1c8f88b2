"""When a wait on a worker ends: its CPU time as its cgroup counts it, the wall clock a backstop.

A test's budget, a notebook's load and a submission's whole suite are counted in the CPU
seconds the worker's cgroup used (``cpuacct.usage`` on cgroup v1, ``usage_usec`` of
``cpu.stat`` on v2: every process the worker started, together; ``Cgroup.cpu_seconds``). A
busy machine, or a neighbour who spins, makes an honest worker wait for a CPU, and waiting
costs no CPU time: its budget lasts until it has really computed that long.

The wall clock still ends every wait, as a backstop: a student who sleeps, or waits on
something that never comes, uses no CPU at all. The backstop is :func:`backstop` of the budget,
``BACKSTOP_FACTOR`` x the budget + ``BACKSTOP_EXTRA_S`` (3 x + 5 s): a test of 2 s ends after
2 s of CPU time or 11 s on the wall clock, whichever comes first; the submission's 120 s after
120 s of CPU or 365 s; a student's files together (grader.run.budget) the same over all of
them. A timeout that came from the backstop on a busy machine is confirmed by grading again
alone (grader.run.confirm) before it counts.

Where the worker's CPU time is not counted (no cgroup with the cpu or cpuacct controller: an
ordinary user without a delegated tree, macOS, ``GRADER_NO_CGROUPS=1``, the in-process double),
the budget itself is wall-clock time, as before; the sandbox description says which applies.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from grader.core.errors import WorkerTimeout

#: The wall-clock backstop of a budget counted in CPU time: FACTOR x the budget + EXTRA_S.
BACKSTOP_FACTOR = 3.0
BACKSTOP_EXTRA_S = 5.0

#: The CPU seconds a worker's cgroup used so far (None: not readable now).
CpuSource = Callable[[], float | None]
Clock = Callable[[], float]

#: CPUs a worker's processes can run on at once: its CPU time grows at most this much faster
#: than the wall clock, so a deadline need not read the cgroup before that could matter.
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

CPU = "cpu"  # what ended a wait: the CPU budget ...
WALL = "wall"  # ... or the wall clock


def backstop(budget_s: float) -> float:
    """The wall-clock seconds after which a budget of ``budget_s`` CPU seconds ends anyway."""
    return BACKSTOP_FACTOR * budget_s + BACKSTOP_EXTRA_S


def budget_rule(counted: bool) -> str:
    """How budgets are counted, for a sandbox description."""
    if counted:
        return (f"budgets in the cgroup's CPU time (wall-clock backstop "
                f"{BACKSTOP_FACTOR:g} x + {BACKSTOP_EXTRA_S:g} s)")
    return "budgets in wall-clock time (no cgroup counts the worker's CPU time)"


@dataclass
class Deadline:
    """When one exchange with a worker must end: once the worker's CPU time reaches
    ``cpu_limit`` (a reading of ``cpu``; None: not counted) or the clock reaches ``wall``.

    ``fired`` says which ended it; ``cpu_start``/``last_cpu`` are the readings when it was made
    and the latest one (kept when the worker, and its cgroup, are gone). ``made`` is the clock
    when it was made: until ``CPUS`` x the wall time since then reaches the CPU time left, the
    limit cannot have been reached, and :meth:`left` does not read the cgroup (most exchanges
    take milliseconds: one reading before and one after, not one per look)."""

    wall: float
    cpu_limit: float | None = None
    cpu: CpuSource | None = None
    clock: Clock = time.monotonic
    cpu_start: float = 0.0
    last_cpu: float = 0.0
    fired: str = ""
    made: float = 0.0

    @classmethod
    def make(cls, clock: Clock, wall: float, cpu: CpuSource | None = None,
             cpu_left: float | None = None) -> Deadline:
        """A deadline ``cpu_left`` CPU seconds from the worker's reading now (where ``cpu``
        reads one), and at ``wall`` on ``clock`` in any case."""
        reading = cpu() if cpu is not None else None
        if reading is None or cpu_left is None:
            return cls(wall=wall, clock=clock)
        return cls(wall=wall, cpu_limit=reading + cpu_left, cpu=cpu, clock=clock,
                   cpu_start=reading, last_cpu=reading, made=clock())

    @property
    def counted(self) -> bool:
        return self.cpu_limit is not None

    def cpu_used(self) -> float:
        """CPU seconds the worker used since the deadline was made (0 where not counted)."""
        if self.cpu is not None:
            self._read()
        return self.last_cpu - self.cpu_start

    def _read(self) -> None:
        reading = self.cpu() if self.cpu is not None else None
        if reading is not None:
            self.last_cpu = max(self.last_cpu, reading)

    def left(self) -> float:
        """Wall-clock seconds until the wall deadline; raises WorkerTimeout once either limit
        is reached (a waiter looks again at least every poll interval)."""
        now = self.clock()
        if (self.cpu_limit is not None
                and (now - self.made) * CPUS >= self.cpu_limit - self.cpu_start):
            self._read()
            if self.last_cpu >= self.cpu_limit:
                self.fired = CPU
                raise WorkerTimeout("CPU time limit reached")
        left = self.wall - now
        if left <= 0:
            self.fired = WALL
            raise WorkerTimeout("time limit reached")
        return left


def as_deadline(value: float | Deadline) -> Deadline:
    """A plain monotonic time as a wall-clock-only Deadline."""
    return value if isinstance(value, Deadline) else Deadline(wall=value)


def cpu_source(worker: object) -> CpuSource | None:
    """The worker's CPU-time reader where its CPU time is counted now, else None."""
    read = getattr(worker, "cpu_seconds", None)
    if read is None:
        return None
    value = read()
    return read if value is not None and math.isfinite(value) else None
