"""Benchmark: the budgets' margin, on correct code with the machine loaded.

    python bench/margin.py [--top 8]

Grades every equivalent implementation in tests/equivalents/ (loop-based ones included) and the
correct demo students (alice, erin's messy notebooks, frank's .py files), one at a time in this
process at the strongest level here, with the budgets measured from the reference
(grader/suite/budgets.py), while another ``grade`` run (a class of demo copies, ``--jobs 2``,
started again whenever it ends) keeps the machine busy throughout. Prints, for the tests that
came closest to their budget, the time the worker took, the budget and the margin
(budget / time); the smallest margin; and how many tests timed out.

Exits 0 whatever the figures (it is a report); 1 when correct code scored below 100, a budget
was not the one measured from the reference, or the parallel run did not load the machine
(tests/test_budget_margin.py runs it and asserts that nothing timed out).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from grader.core.course import DEFAULT_ROOT, load_course  # noqa: E402
from grader.core.results import TIMED_OUT  # noqa: E402
from grader.core.settings import Settings  # noqa: E402
from grader.run.grading import kept_sandbox  # noqa: E402
from grader.submission.grade import Job, grade_job, suite_hash  # noqa: E402
from grader.suite.budgets import suite_budgets  # noqa: E402

COURSE = load_course(DEFAULT_ROOT)
DEMO = DEFAULT_ROOT / "demo" / "submissions"
CORRECT_DEMO = ("alice", "erin", "frank")
LOAD_COPIES = 8


class LoadRun:
    """``grade`` on a class of demo copies, started again whenever it ends, until stopped."""

    def __init__(self, base: Path) -> None:
        self.submissions, self.out = base / "load", base / "load-out"
        for k in range(LOAD_COPIES):
            for student in DEMO.iterdir():
                if student.is_dir():
                    shutil.copytree(student, self.submissions / f"{student.name}{k}")
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stopped.is_set():
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grader.cli", str(self.submissions), "--out",
                 str(self.out), "--force", "--jobs", "2", "--quiet", "--course",
                 str(DEFAULT_ROOT)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.runs += 1
            self.process.wait()

    def start(self) -> None:
        self.thread.start()
        cache = self.out / ".cache"
        while not (cache.is_dir() and any(cache.glob("*/*/*.json"))):  # it is grading
            assert self.process is None or self.process.poll() in (None, 0)
            time.sleep(0.2)

    def busy(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        self.stopped.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
        self.thread.join(timeout=60)


def correct_code() -> list[Job]:
    jobs = []
    for assignment in COURSE.assignments:
        for path in sorted((DEFAULT_ROOT / "tests" / "equivalents" / assignment.id)
                           .glob("*.py")):
            jobs.append(Job(path.stem, assignment, path))
        for student in CORRECT_DEMO:
            path = next(p for p in (DEMO / student).iterdir()
                        if p.name.lower().startswith(assignment.id))
            jobs.append(Job(student, assignment, path))
    return jobs


@dataclass
class Margin:
    rows: list[tuple[float, float, str]] = field(default_factory=list)  # worker s, budget s
    timed_out: int = 0
    problems: list[str] = field(default_factory=list)
    load_runs: int = 0


def measure(work: Path) -> Margin:
    """Grade the correct code while a parallel run loads the machine."""
    settings = Settings(course_root=DEFAULT_ROOT, secret="margin")
    sandbox = kept_sandbox(settings.sandbox, settings.warm)
    margin = Margin()
    load = LoadRun(work)
    load.start()
    busy_throughout = True
    try:
        for job in correct_code():
            busy_throughout &= load.busy()
            result = grade_job(job, settings, sandbox)
            budgets = suite_budgets(job.assignment, suite_hash(job.assignment))
            what = f"{job.student}/{job.assignment.id}"
            if budgets.stale:
                margin.problems.append(f"{what}: budgets not measured: {budgets.stale}")
            for test in result.tests:
                margin.timed_out += test.status == TIMED_OUT
                margin.rows.append((test.worker_s, test.budget_s, f"{what}: {test.name}"))
                if test.budget_s != round(budgets.for_test(test.name), 4):  # as results keep it
                    margin.problems.append(f"{what}: {test.name}: budget {test.budget_s} s, "
                                           f"measured {budgets.for_test(test.name)} s")
            if result.score != result.max_score:
                margin.problems.append(f"{what}: scored {result.score}: " + "; ".join(
                    f"{t.name} {t.status} ({t.worker_s} s of {t.budget_s} s)"
                    for t in result.tests if t.score < t.max_score))
    finally:
        load.stop()
    margin.load_runs = load.runs
    if not (busy_throughout or load.runs > 1):
        margin.problems.append("the parallel run did not load the machine")
    return margin


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=8, help="tests to list [default: 8]")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-margin-") as work:
        margin = measure(Path(work))
    rows = sorted(margin.rows, key=lambda row: row[1] / max(row[0], 1e-6))
    print(f"budgets' margin: {len(correct_code())} correct submissions, {len(rows)} tests, "
          f"graded while a parallel `grade --jobs 2` ran {margin.load_runs} time(s); load "
          f"average {os.getloadavg()[0]:.1f} at the end")
    print(f"  {'worker time':>12} {'budget':>8} {'margin':>8}  test")
    for worker_s, budget_s, what in rows[:args.top]:
        print(f"  {worker_s:10.3f} s {budget_s:6.1f} s {budget_s / max(worker_s, 1e-6):7.1f}x"
              f"  {what}")
    worker_s, budget_s, _ = rows[0]
    print(f"smallest margin: {budget_s / max(worker_s, 1e-6):.1f}x; timed out: "
          f"{margin.timed_out} of {len(rows)} tests")
    for problem in margin.problems:
        print(f"problem: {problem}")
    return 1 if margin.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
