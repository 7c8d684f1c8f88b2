"""Issue 13's case, end to end: a training notebook saved with its cells in reverse order, so
that ``SimpleNN`` is defined below its first use (and the imports below everything), passes its
public checks in ``python -m selfcheck`` and in ``check()`` in a real Jupyter kernel, and
scores 100 in ``grade``. Before the self-check ran the grader's code it said "`SimpleNN` is not
defined in training.ipynb" while the grader gave 100.

matplotlib is not a dependency of this project: the plotting lines are left out.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers.bundle import bundle_python, make_bundle

from grader.core.course import DEFAULT_ROOT, load_course
from grader.extract.stub import strip_markers

pytestmark = pytest.mark.slow  # the self-check in a notebook kernel

COURSE = load_course(DEFAULT_ROOT)
CHECK = ('import sys; sys.path.insert(0, "..")\nfrom selfcheck import check\n'
         'result = check()\nprint("RESULT", bool(result))')


def reversed_training() -> nbformat.NotebookNode:
    """The solved training notebook, every cell (markdown too) in reverse order."""
    notebook = nbformat.read(COURSE.get("training").reference, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in strip_markers(cell.source).splitlines()
                                    if "plt" not in line)
    notebook.cells.reverse()
    notebook.metadata.pop("grader", None)
    return notebook


def first_line_index(notebook: nbformat.NotebookNode, text: str) -> int:
    return next(i for i, c in enumerate(notebook.cells)
                if c.cell_type == "code" and text in c.source)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundle = make_bundle(tmp_path_factory.mktemp("reversed") / "bundle", "training")
    notebook = reversed_training()
    # what makes the case: the class is below its first use, the imports below the class
    assert first_line_index(notebook, "model = SimpleNN()") < first_line_index(
        notebook, "class SimpleNN(nn.Module)") < first_line_index(notebook, "import torch.nn")
    path = bundle / "training" / "training.ipynb"
    nbformat.write(notebook, path)
    return path


def test_python_m_selfcheck_passes(saved: Path) -> None:
    done = bundle_python(saved.parent.parent, "selfcheck", "training")
    assert done.returncode == 0, done.stdout + done.stderr  # 1 when a check fails
    for line in ("training (training.ipynb): 9/9 public checks passed",
                 "ok     SimpleNN: 3 tests passed", "ok     TwoHiddenLayerNet: 2 tests",
                 "ok     get_device: 1 test passed", "ok     train_model: 2 tests",
                 "ok     evaluate: 1 test"):
        assert line in done.stdout, done.stdout
    assert "FAILED" not in done.stdout and "not defined" not in done.stdout


def test_check_in_a_real_kernel_passes_without_a_warning(saved: Path) -> None:
    """The student ran the cells bottom to top (the order they wrote them in), then check()."""
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(saved, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(saved.parent)}})
    saved_cells = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK))  # run, never saved
    with client.setup_kernel():
        for index in reversed(range(saved_cells)):
            client.execute_cell(notebook.cells[index], index)
        client.execute_cell(notebook.cells[-1], saved_cells)
    output = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert "training: 9/9 public checks passed" in output, output
    assert "RESULT True" in output and "warning" not in output, output


def test_grade_scores_100(saved: Path, tmp_path: Path) -> None:
    student = tmp_path / "submissions" / "alice"
    student.mkdir(parents=True)
    (student / "training.ipynb").write_bytes(saved.read_bytes())
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "grader.cli", str(tmp_path / "submissions"),
                           "--out", str(out), "--assignment", "training", "--sandbox",
                           "process", "--jobs", "1"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert float(rows["alice"]["score"]) == 100, rows["alice"]
