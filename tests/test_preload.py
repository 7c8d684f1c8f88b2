"""The warm zygote's preload is decided from the run's suites and submissions
(grader.run.preload): matplotlib only where a submission uses it; a worker imports
matplotlib itself when it was not preloaded, with the same score."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import Settings
from grader.run import grading
from grader.run.discover import discover
from grader.run.grading import close_sandboxes, grade_folder, kept_sandbox, plan_jobs
from grader.run.preload import preload_for

COURSE = load_course(DEFAULT_ROOT)
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice"


def _class(tmp_path: Path, *notebooks: str) -> Path:
    folder = tmp_path / "class" / "alice"
    folder.mkdir(parents=True)
    for name in notebooks:
        shutil.copy(ALICE / name, folder / name)
    return folder.parent


def _preload(folder: Path) -> tuple[str, ...]:
    discovery = discover(folder, COURSE.assignments)
    return preload_for(plan_jobs(discovery, COURSE, all_assignments=False))


def test_matplotlib_is_preloaded_only_where_a_notebook_uses_it(tmp_path: Path) -> None:
    assert b"matplotlib" in (ALICE / "training.ipynb").read_bytes()
    assert b"matplotlib" not in (ALICE / "activations.ipynb").read_bytes()
    assert _preload(_class(tmp_path / "a", "activations.ipynb")) == ("numpy", "torch")
    assert _preload(_class(tmp_path / "b", "activations.ipynb", "training.ipynb")) == (
        "numpy", "torch", "matplotlib.pyplot")


def test_a_run_starts_its_zygote_with_the_course_preload(tmp_path: Path) -> None:
    close_sandboxes()
    folder = _class(tmp_path, "activations.ipynb")
    settings = Settings(course_root=DEFAULT_ROOT, secret="preload")
    try:
        (result,) = grade_folder(folder, COURSE, settings).results
        sandbox = kept_sandbox(settings.sandbox, settings.warm)
        assert getattr(sandbox, "preload", None) == ("numpy", "torch")
        assert result.score == result.max_score and not result.grader_error
    finally:
        close_sandboxes()
    assert not grading._SANDBOXES


def test_a_worker_imports_what_was_not_preloaded_with_the_same_score(tmp_path: Path) -> None:
    folder = _class(tmp_path, "training.ipynb")
    scores = []
    for preload in (None, ("numpy", "torch")):  # None: the run decides (matplotlib too)
        close_sandboxes()
        settings = Settings(course_root=DEFAULT_ROOT, secret="preload", preload=preload)
        try:
            (result,) = grade_folder(folder, COURSE, settings).results
        finally:
            close_sandboxes()
        assert not result.grader_error, result.error
        scores.append((result.score, [(t.name, t.status) for t in result.tests]))
    assert scores[0] == scores[1]
