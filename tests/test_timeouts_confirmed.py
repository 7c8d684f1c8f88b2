"""A timeout is confirmed before it is recorded (issue 22): a submission whose grading timed
out is graded once more, alone, and the second grading counts; only then is it cached.

The run goes through the real grade_discovery and ResultCache; the executor is a test double
(grader.run.grading.Executor) that times out as a busy machine would, on the first grading
only (a contention timeout) or on every grading (the student's own hang).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import PASSED, TIMED_OUT, SubmissionResult, TestResult
from grader.core.settings import Settings
from grader.run.cache import ResultCache
from grader.run.grading import Progress, Resume, grade_folder
from grader.submission.grade import Job

COURSE = load_course(DEFAULT_ROOT)
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"


class BusyMachine:
    """Grades ``student`` with a timeout the first ``busy`` times, everyone else at once; the
    timeout ended on the wall clock, or with ``on_cpu`` on the worker's own CPU time."""

    level = "process"
    description = "a test double"

    def __init__(self, student: str, busy: int, on_cpu: bool = False) -> None:
        self.student, self.busy, self.on_cpu = student, busy, on_cpu
        self.calls: list[tuple[str, int]] = []

    def grade(self, jobs: Sequence[Job], settings: Settings, progress: Progress | None,
              settings_for: Callable[[Job], Settings] | None) -> list[SubmissionResult]:
        results = []
        for job in jobs:
            jobs_now = (settings_for(job) if settings_for else settings).jobs
            self.calls.append((job.student, jobs_now))
            slow = job.student == self.student and self.busy > 0
            if slow:
                self.busy -= 1
            status = TIMED_OUT if slow else PASSED
            test = TestResult("test_relu__values", "relu", status, 0.0 if slow else 1.0, 1.0)
            result = SubmissionResult(job.student, job.assignment.id, str(job.path),
                                      tests=(test,), max_score=1.0, waits=int(slow),
                                      wall_waits=int(slow and not self.on_cpu))
            if progress is not None:
                progress(job, result)
            results.append(result)
        return results


def _class(root: Path) -> Path:
    for name in ("honest", "unlucky"):
        (root / name).mkdir(parents=True)
        shutil.copy(ALICE, root / name / "activations.ipynb")
    return root


def _run(tmp_path: Path, machine: BusyMachine) -> dict[str, SubmissionResult]:
    settings = Settings(course_root=COURSE.root, jobs=2)
    run = grade_folder(_class(tmp_path / "submissions"), COURSE, settings, ["activations"],
                       resume=Resume(ResultCache(tmp_path / "out")), executor=machine)
    return {r.student: r for r in run.results}


def test_a_timeout_from_contention_is_graded_again_alone_and_not_recorded(
        tmp_path: Path) -> None:
    machine = BusyMachine("unlucky", busy=1)
    results = _run(tmp_path, machine)
    assert results["unlucky"].score == 1 and results["unlucky"].waits == 0
    assert machine.calls.count(("unlucky", 2)) == 1  # graded beside the others
    assert machine.calls[-1] == ("unlucky", 1)  # then again, alone
    assert ("honest", 1) not in machine.calls  # a result without a timeout is not regraded
    cached = [ResultCache(tmp_path / "out").get(job, key) for job, key in _entries(tmp_path)]
    assert sorted((r.student, r.score) for r in cached if r) == [("honest", 1), ("unlucky", 1)]


def test_a_timeout_that_comes_again_is_the_students_and_is_cached(tmp_path: Path) -> None:
    machine = BusyMachine("unlucky", busy=2)
    results = _run(tmp_path, machine)
    assert results["unlucky"].tests[0].status == TIMED_OUT
    assert [c for c in machine.calls if c[0] == "unlucky"] == [("unlucky", 2), ("unlucky", 1)]
    assert len(ResultCache(tmp_path / "out").entries()) == 2
    rerun = BusyMachine("unlucky", busy=0)
    again = _run_again(tmp_path, rerun)
    assert again["unlucky"].tests[0].status == TIMED_OUT  # the confirmed timeout, from cache
    assert rerun.calls == []


def test_a_timeout_counted_in_cpu_time_is_the_students_at_once(tmp_path: Path) -> None:
    """A call that used its whole budget of CPU time did so however busy the machine was:
    it is recorded (and cached) from the first grading, not graded again."""
    machine = BusyMachine("unlucky", busy=1, on_cpu=True)
    results = _run(tmp_path, machine)
    assert results["unlucky"].tests[0].status == TIMED_OUT and results["unlucky"].waits == 1
    assert [c for c in machine.calls if c[0] == "unlucky"] == [("unlucky", 2)]
    assert len(ResultCache(tmp_path / "out").entries()) == 2


def _run_again(tmp_path: Path, machine: BusyMachine) -> dict[str, SubmissionResult]:
    settings = Settings(course_root=COURSE.root, jobs=2)
    run = grade_folder(tmp_path / "submissions", COURSE, settings, ["activations"],
                       resume=Resume(ResultCache(tmp_path / "out")), executor=machine)
    return {r.student: r for r in run.results}


def _entries(tmp_path: Path) -> list[tuple[Job, str]]:
    found = []
    for entry in ResultCache(tmp_path / "out").entries():
        student = entry.parent.parent.name
        job = Job(student, COURSE.get("activations"),
                  tmp_path / "submissions" / student / "activations.ipynb")
        found.append((job, entry.stem))
    return found
