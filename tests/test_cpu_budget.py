"""Budgets counted in the worker's CPU time, the wall clock a backstop (issue 22,
grader.sandbox.clock).

The first tests inject the clock and the CPU source, so every number is exact: the student's
code (run by the in-process double, in this process) moves the fake clock and the fake CPU
time itself. The last one is real: an honest test at the bwrap level, its budget counted in
its cgroup's CPU time, beside a neighbour that spins on every core.
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers.resources import needs, needs_bwrap

from grader.core.errors import BudgetSpent, CallTimedOut, WorkerTimeout
from grader.core.results import SubmissionResult
from grader.core.settings import Limits, Settings
from grader.run.budget import grade_group
from grader.sandbox.cgroups import attach_prefix, factory
from grader.sandbox.clock import CPU, WALL, Deadline, backstop, budget_rule
from grader.sandbox.inprocess import InProcessSandbox, ThreadWorker
from grader.submission.grade import Job
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession
from grader.submission.stops import Remembered


class Fake:
    """A wall clock and a worker's CPU time that only move when told to."""

    def __init__(self) -> None:
        self.wall = 1000.0
        self.cpu = 50.0
        self.lock = threading.Lock()
        self.halted = False

    def clock(self) -> float:
        with self.lock:
            return self.wall

    def cpu_seconds(self) -> float:
        with self.lock:
            return self.cpu

    def advance(self, cpu: float, wall: float) -> None:
        with self.lock:
            self.cpu += cpu
            self.wall += wall


def test_backstop_is_three_times_the_budget_and_five_seconds() -> None:
    assert backstop(2.0) == 11.0
    assert backstop(120.0) == 365.0
    assert "CPU time (wall-clock backstop 3 x + 5 s)" in budget_rule(True)
    assert "wall-clock time" in budget_rule(False)


def test_a_deadline_ends_on_cpu_time_or_on_the_wall_clock() -> None:
    fake = Fake()
    deadline = Deadline.make(fake.clock, fake.wall + 11.0, fake.cpu_seconds, 2.0)
    assert deadline.cpu_limit == 52.0 and deadline.left() == 11.0
    fake.advance(cpu=1.5, wall=9.0)  # a busy machine: 9 s waited, 1.5 s computed
    assert deadline.left() == 2.0 and deadline.cpu_used() == 1.5
    fake.advance(cpu=0.5, wall=0.5)
    with pytest.raises(WorkerTimeout, match="CPU time limit"):
        deadline.left()
    assert deadline.fired == CPU and deadline.cpu_used() == 2.0

    sleeper = Deadline.make(fake.clock, fake.wall + 11.0, fake.cpu_seconds, 2.0)
    fake.advance(cpu=0.0, wall=10.999)
    assert sleeper.left() == pytest.approx(0.001)
    fake.advance(cpu=0.0, wall=0.001)
    with pytest.raises(WorkerTimeout, match="time limit reached"):
        sleeper.left()
    assert sleeper.fired == WALL and sleeper.cpu_used() == 0.0

    uncounted = Deadline.make(fake.clock, fake.wall + 2.0, None, 2.0)  # no cgroup: wall only
    assert not uncounted.counted
    fake.advance(cpu=100.0, wall=1.0)
    assert uncounted.left() == 1.0


# The student's functions move the fake clock and CPU time (the in-process double runs them
# in this process): ``work`` computes and waits, ``spin`` computes until stopped, ``nap``
# waits without computing until stopped. Each step of those two loops is 0.1 s of fake time.
MODULE = [
    "import builtins, time",
    "def work(cpu, wall):\n    builtins._fake_budget.advance(cpu, wall)\n    return 1",
    "def spin():\n    while not builtins._fake_budget.halted:\n"
    "        builtins._fake_budget.advance(0.1, 0.1)\n        time.sleep(0.005)",
    "def nap():\n    while not builtins._fake_budget.halted:\n"
    "        builtins._fake_budget.advance(0.0, 0.1)\n        time.sleep(0.005)",
]


class CountedWorker(ThreadWorker):
    def __init__(self, fake: Fake) -> None:
        super().__init__()
        self.fake = fake

    def cpu_seconds(self) -> float | None:
        return self.fake.cpu_seconds()

    def kill(self) -> None:
        self.fake.halted = True  # a thread cannot be killed: the loops above stop themselves
        super().kill()


class CountedSandbox(InProcessSandbox):
    """The in-process double with its worker's CPU time read from ``fake``."""

    def __init__(self, fake: Fake) -> None:
        self.fake = fake

    def start(self, limits: Limits, device: str = "cpu") -> ThreadWorker:
        self.fake.halted = False
        return CountedWorker(self.fake)


class UncountedWorker(CountedWorker):
    def cpu_seconds(self) -> float | None:
        return None  # as without a cgroup


class UncountedSandbox(CountedSandbox):
    def start(self, limits: Limits, device: str = "cpu") -> ThreadWorker:
        self.fake.halted = False
        return UncountedWorker(self.fake)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Fake:
    fake = Fake()
    monkeypatch.setattr(builtins, "_fake_budget", fake, raising=False)
    return fake


def session(fake: Fake, counted: bool = True, **limits: float
            ) -> tuple[WorkerSession, StudentProxy]:
    sandbox = CountedSandbox(fake) if counted else UncountedSandbox(fake)
    own = WorkerSession(sandbox, Limits(**limits), MODULE, clock=fake.clock)
    return own, StudentProxy(own)


def test_a_test_waited_on_by_a_busy_machine_is_not_out_of_time(fake: Fake) -> None:
    own, student = session(fake, submission_timeout_s=120.0)
    try:
        own.start_test("test_busy", 2.0)
        assert student.work(1.5, 9.0) == 1  # 9 s on the wall clock, 1.5 s of CPU: in budget
        assert student.work(0.4, 1.9) == 1  # 1.9 s of CPU, 10.9 s of 11 s on the wall
        assert own.test_cpu_s == pytest.approx(1.9) and own.test_used_s == pytest.approx(10.9)
        assert own.cpu_used_s == pytest.approx(1.9) and own.cpu_counted
        assert own.worker_s["test_busy"] == pytest.approx(10.9)  # (budgets.json: wall time)
        own.start_test("test_spin", 2.0)
        with pytest.raises(CallTimedOut) as spun:
            student.spin()
        assert own.test_cpu_s >= 2.0 and own.test_used_s < backstop(2.0)
        assert spun.value.stop is not None
        assert spun.value.stop.reason == "did not return within 2 s of CPU time"
        own.start_test("test_nap", 2.0)
        with pytest.raises(CallTimedOut) as napped:
            student.nap()
        assert own.test_cpu_s == 0.0 and own.test_used_s >= 11.0
        assert napped.value.stop is not None
        assert napped.value.stop.reason == ("did not return within 11 s (while using less than "
                                            "its 2 s of CPU time: it waited or slept)")
    finally:
        own.close()


def test_without_a_cpu_count_the_budget_is_the_wall_clock(fake: Fake) -> None:
    own, student = session(fake, counted=False)
    try:
        own.start_test("test_busy", 2.0)
        assert student.work(1.5, 1.9) == 1
        assert not own.cpu_counted and own.cpu_used_s == 0.0
        assert own.test_used_s == pytest.approx(1.9)
        own.start_test("test_nap", 2.0)
        with pytest.raises(CallTimedOut) as napped:
            student.nap()
        assert 2.0 <= own.test_used_s < backstop(2.0)  # no backstop: the budget itself
        assert napped.value.stop is not None
        assert napped.value.stop.reason == "did not return within 2 s"
    finally:
        own.close()


def test_the_submission_budget_is_counted_in_cpu_time_too(fake: Fake) -> None:
    own, student = session(fake, submission_timeout_s=5.0)
    try:
        for k in range(3):  # 3 tests of 1.9 s CPU each: the third ends on the 5 s
            own.start_test(f"test_{k}", 2.0)
            if k < 2:
                assert student.work(1.9, 1.0) == 1
        assert own.cpu_used_s == pytest.approx(3.8)
        with pytest.raises(CallTimedOut) as spun:
            student.spin()
        assert spun.value.stop is None  # the submission's budget ran out, not the call's
        assert own.cpu_used_s >= 5.0
        own.start_test("test_after", 2.0)
        with pytest.raises(BudgetSpent, match="submission's time budget of 5 s"):
            student.work(0.0, 0.0)
    finally:
        own.close()


def test_the_submission_backstop_bounds_a_sleeper_and_the_students_cap(fake: Fake) -> None:
    own = WorkerSession(CountedSandbox(fake), Limits(submission_timeout_s=5.0), MODULE,
                        clock=fake.clock, wall_cap_s=12.0)
    student = StudentProxy(own)
    try:  # backstop(5) = 20 s, but the student's backstop has only 12 s left
        own.start_test("test_0", 10.0)
        assert student.work(0.0, 11.0) == 1
        with pytest.raises(CallTimedOut) as napped:
            student.nap()
        assert napped.value.stop is None  # the submission's wall clock ran out
        assert fake.wall - 1000.0 >= 12.0
        own.start_test("test_1", 10.0)
        with pytest.raises(BudgetSpent, match="submission's time budget of 5 s"):
            student.work(0.0, 0.0)
    finally:
        own.close()


def test_a_students_files_share_one_cpu_total_and_one_wall_backstop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.run.budget as budget

    fake = Fake()
    monkeypatch.setattr(budget.time, "monotonic", fake.clock)
    given: list[tuple[float, float | None]] = []

    def computes(job: Job, settings: Settings, remembered: Remembered) -> SubmissionResult:
        # each file computes 50 s (CPU), waiting 80 s for the CPU on a busy machine
        limit = settings.limits.submission_timeout_s
        given.append((limit, remembered.wall_cap_s))
        fake.advance(0.0, 80.0)
        remembered.spent(min(50.0, limit), True)
        return SubmissionResult(job.student, job.assignment.id, str(job.path))

    limits = Limits(submission_timeout_s=120.0)
    jobs = [Job("mallory", _assignment(), Path(f"f{n}.py")) for n in range(5)]
    grade_group(jobs, [Settings(course_root=_root(), limits=limits)] * 5, computes)
    # CPU left: 120, 70, 20; the wall backstop over all files: 365, 285, 205 (80 s each)
    assert given == [(120.0, 365.0), (70.0, 285.0), (20.0, 205.0)]

    given.clear()
    start = fake.wall

    def sleeps(job: Job, settings: Settings, remembered: Remembered) -> SubmissionResult:
        # each file sleeps until its wall cap (no CPU): the backstop over all files stops it
        given.append((settings.limits.submission_timeout_s, remembered.wall_cap_s))
        assert remembered.wall_cap_s is not None
        fake.advance(0.0, min(200.0, remembered.wall_cap_s))
        remembered.spent(0.0, True)
        return SubmissionResult(job.student, job.assignment.id, str(job.path))

    results = grade_group(jobs, [Settings(course_root=_root(), limits=limits)] * 5, sleeps)
    assert given == [(120.0, 365.0), (120.0, 165.0)]
    assert fake.wall - start == 365.0  # never 5 x 365 s
    assert [r.error is not None and r.error.startswith("Not graded") for r in results] == \
        [False, False, True, True, True]


def _root() -> Path:
    from grader.core.course import DEFAULT_ROOT

    return DEFAULT_ROOT


def _assignment():  # noqa: ANN202 - the demo course's first assignment
    from grader.core.course import load_course

    return load_course(_root()).assignments[0]


SPINNER = """
import os, time
end = time.monotonic() + {seconds}
while time.monotonic() < end:
    pass
"""


FACTORY = factory()
NO_CPU_COUNT = FACTORY is None or not FACTORY.counts_cpu or "cpu" not in FACTORY.controllers


@pytest.mark.slow
@needs_bwrap
@needs("no cgroup counts CPU time here" if NO_CPU_COUNT else None, "cgroups (cpu, cpuacct)")
def test_an_honest_test_beside_a_spinning_neighbour_keeps_its_cpu_budget() -> None:
    """Real: calls that need 0.5 s of CPU each under a test budget of 2 s, at the bwrap level,
    while a neighbour cgroup with 10 times the worker's CPU share spins on every core. On the
    wall clock a call waits longer than its 2 s for a CPU; counted in its cgroup's CPU time it
    passes (the backstop, 11 s, is far)."""
    from grader.sandbox import make_sandbox

    sandbox = make_sandbox("bwrap", warm=False)
    assert "budgets in the cgroup's CPU time" in sandbox.description
    module = ["import time",
              "def compute(seconds):\n    end = time.process_time() + seconds\n"
              "    while time.process_time() < end:\n        pass\n    return seconds"]
    own = WorkerSession(sandbox, Limits(submission_timeout_s=60.0), module)
    student = StudentProxy(own)
    cores = len(os.sched_getaffinity(0))
    neighbour = heavy_neighbour()
    hogs = [subprocess.Popen([*attach_prefix(neighbour), sys.executable, "-c",
                              SPINNER.format(seconds=90)]) for _ in range(2 * cores)]
    try:
        own.ensure_ready()
        time.sleep(0.5)  # the neighbours are spinning
        walls = []
        for k in range(3):
            own.start_test(f"test_{k}", BUDGET_S)
            began = time.monotonic()
            assert student.compute(0.5) == 0.5  # in budget: 0.5 s of CPU of 2 s
            walls.append(round(time.monotonic() - began, 2))
        assert own.cpu_counted and own.cpu_used_s >= 1.5 and own.waits == 0
        print(f"wall seconds of each 0.5 s CPU call beside {2 * cores} spinners: {walls}")
        # the neighbours took the CPU: on the wall clock the budget would have run out
        assert max(walls) > BUDGET_S
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        own.close()
        sandbox.close()
        neighbour.remove()


BUDGET_S = 2.0


def heavy_neighbour():  # noqa: ANN201 - a grader.sandbox.cgroups.Cgroup
    """A cgroup with 10 times a worker's CPU share, for the spinning neighbours."""
    from grader.sandbox.cgroups import CPU_SHARES, CPU_WEIGHT

    assert FACTORY is not None
    group = FACTORY.create(None, None)
    assert group is not None and group.cpu_share
    for folder in group.dirs:
        for name, value in (("cpu.shares", CPU_SHARES), ("cpu.weight", CPU_WEIGHT)):
            if (folder / name).exists():
                (folder / name).write_text(str(10 * value))
    return group
