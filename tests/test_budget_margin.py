"""The budgets' margin: no correct code times out with the machine loaded by a parallel run.

Every equivalent implementation in tests/equivalents/ (loop-based ones included) and the
correct demo students (alice, erin's messy notebooks, frank's .py files) are graded at the
strongest level here with the budgets measured from the reference, while another grading
run (``grade`` on a class of demo copies, ``--jobs 2``) keeps the machine busy throughout.
The assertion is on statuses (no "timed out", full marks), never on seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.budgets import suite_budgets
from grader.course import DEFAULT_ROOT, load_course
from grader.grading import kept_sandbox
from grader.results import TIMED_OUT
from grader.runner.grade import Job, grade_job, suite_hash
from grader.settings import Settings

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
                 str(self.out), "--force", "--jobs", "2", "--quiet"],
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


@pytest.fixture
def loaded(tmp_path: Path):
    load = LoadRun(tmp_path)
    load.start()
    yield load
    load.stop()


def test_no_correct_code_times_out_on_a_loaded_machine(loaded: LoadRun) -> None:
    settings = Settings(course_root=DEFAULT_ROOT, secret="margin")
    sandbox = kept_sandbox(settings.sandbox, settings.warm)
    busy_throughout = True
    problems = []
    for job in correct_code():
        busy_throughout &= loaded.busy()
        result = grade_job(job, settings, sandbox)
        budgets = suite_budgets(job.assignment, suite_hash(job.assignment))
        assert not budgets.stale, budgets.stale  # measured budgets, not the 60 s default
        problems += [f"{job.student}/{job.assignment.id}: {t.name}: {t.status} "
                     f"({t.worker_s} s of {t.budget_s} s)" for t in result.tests
                     if t.status == TIMED_OUT or t.budget_s != budgets.for_test(t.name)]
        if result.score != 100:
            problems.append(f"{job.student}/{job.assignment.id}: {result.score}")
    assert problems == []
    assert busy_throughout or loaded.runs > 1, "the parallel run did not load the machine"
