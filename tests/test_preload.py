"""The warm zygote's preload is decided from the run's suites and submissions
(grader.run.preload): matplotlib only where a submission uses it; a worker imports
matplotlib itself when it was not preloaded, with the same score."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import PASSED
from grader.core.settings import Settings
from grader.run import local
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


def test_matplotlib_and_an_optimizer_step_are_preloaded_only_where_a_file_uses_them(
        tmp_path: Path) -> None:
    assert b"matplotlib" in (ALICE / "training.ipynb").read_bytes()
    assert b"matplotlib" not in (ALICE / "activations.ipynb").read_bytes()
    assert b"optim" not in (ALICE / "activations.ipynb").read_bytes()
    assert _preload(_class(tmp_path / "a", "activations.ipynb")) == ("numpy", "torch")
    assert _preload(_class(tmp_path / "b", "activations.ipynb", "training.ipynb")) == (
        "numpy", "torch", "torch.optim", "matplotlib.pyplot")


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
    assert not local._SANDBOXES


def test_a_worker_imports_what_was_not_preloaded_with_the_same_score(tmp_path: Path) -> None:
    """alice's activations with a cell that draws with matplotlib; with a zygote that did not
    preload it, the worker imports it itself and no test fails: full marks, as alice gets."""
    folder = _class(tmp_path, "activations.ipynb")
    notebook = nbformat.read(folder / "alice" / "activations.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n\n\ndef draw(x):\n    return plt.plot(x, relu(x))\n"))
    nbformat.write(notebook, folder / "alice" / "activations.ipynb")
    assert "matplotlib.pyplot" in _preload(folder)  # the run itself would preload it
    close_sandboxes()
    settings = Settings(course_root=DEFAULT_ROOT, secret="preload", preload=("numpy", "torch"))
    try:
        (result,) = grade_folder(folder, COURSE, settings).results
        sandbox = kept_sandbox(settings.sandbox, settings.warm)
        assert getattr(sandbox, "preload", None) == ("numpy", "torch")
    finally:
        close_sandboxes()
    assert not result.grader_error, result.error
    assert [t.name for t in result.tests if t.status != PASSED] == []
    assert result.score == result.max_score
