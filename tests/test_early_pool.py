"""A class run starts its pool's fork server when discovery first has to read a file (issue
32: the fork server's imports of the grading code, numpy and torch then run beside
discovery instead of after it), and a run with nothing new to read starts nothing."""

from __future__ import annotations

import multiprocessing.forkserver
import shutil
from pathlib import Path
from typing import Any

import pytest

from grader.commands import grade as grade_command
from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import RunResult
from grader.core.settings import Settings
from grader.run import discover, local

COURSE = load_course(DEFAULT_ROOT)
DEMO = DEFAULT_ROOT / "demo" / "submissions"


def _run(source: Path, out: Path, jobs: int) -> RunResult:
    settings = Settings(course_root=DEFAULT_ROOT, secret="early-pool", jobs=jobs)
    return run(RunRequest(submissions_dir=source, out_dir=out, only=("activations",),
                          quiet=True), COURSE, settings, echo=lambda _: None)


@pytest.mark.slow  # a pool of two processes, each with a warm zygote
def test_the_fork_server_starts_before_the_first_read_and_a_rerun_starts_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for student in ("alice", "carol"):
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy(DEMO / student / "activations.ipynb", tmp_path / "class" / student)
    events: list[str] = []

    def spy(module: Any, name: str) -> None:
        real = getattr(module, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            events.append(name)
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, recorded)

    spy(grade_command, "start_pool_early")
    spy(discover, "SubmissionsReading")  # once per student
    spy(local, "grade_jobs")
    first = _run(tmp_path / "class", tmp_path / "out", jobs=2)
    assert events == ["start_pool_early", "SubmissionsReading", "SubmissionsReading",
                      "grade_jobs"]
    assert multiprocessing.forkserver._forkserver._forkserver_pid is not None
    assert {r.student: r.score == r.max_score for r in first.results} == {
        "alice": True, "carol": False}
    events.clear()
    again = _run(tmp_path / "class", tmp_path / "out", jobs=2)
    assert events == []  # every file known by its bytes, every result cached
    assert [r.score for r in again.results] == [r.score for r in first.results]


def test_one_run_at_a_time_on_one_core_starts_no_fork_server(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing.forkserver, "ensure_running",
                        lambda: pytest.fail("a fork server started"))
    local.start_pool_early(Settings(course_root=DEFAULT_ROOT, jobs=1),
                           [COURSE.assignments[0].hidden_suite])


def test_a_fork_server_that_cannot_start_early_is_left_to_the_pool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery goes on; the pool starts its fork server itself later, and a failure there is
    reported as it always was."""
    tried: list[int] = []

    def cannot() -> None:
        tried.append(1)
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.forkserver, "ensure_running", cannot)
    local.start_pool_early(Settings(course_root=DEFAULT_ROOT, jobs=2),
                           [COURSE.assignments[0].hidden_suite])
    assert tried == [1]
