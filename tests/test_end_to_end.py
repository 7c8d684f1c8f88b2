"""`grade SUBMISSIONS_DIR` end to end on the activations assignment, through the real CLI.

Covers issue 2's acceptance: the reference scores 100, the stub 0 without a grader error,
notebooks mangled in the ways students mangle them still score 100, and submissions that
sabotage the checks at import score what their functions earn.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.core.course import DEFAULT_ROOT
from grader.extract.stub import strip_markers

pytestmark = pytest.mark.slow  # classes graded through the CLI

REFERENCE = DEFAULT_ROOT / "solutions" / "activations.ipynb"
STUB = DEFAULT_ROOT / "assignments" / "activations" / "activations.ipynb"
GRADE = [sys.executable, "-m", "grader.cli"]


def solution_sources() -> list[str]:
    nb = nbformat.read(REFERENCE, as_version=4)
    return [strip_markers(c.source) for c in nb.cells if c.cell_type == "code"]


def notebook(sources: list[str], counts: list[int | None] | None = None) -> nbformat.NotebookNode:
    counts = counts or [None] * len(sources)
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(s, execution_count=n)
        for s, n in zip(sources, counts, strict=True)])


WRONG = "\n".join(f"def {name}(x, alpha=1.0):\n    return x * 0 + 0.5\n" for name in (
    "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "elu", "elu_grad"))
WRONG += "\ndef relu(x):\n    return x\n\ndef softmax(z):\n    return z\n"
SABOTAGE_ALLCLOSE = """import numpy as np
import numpy.testing
def _always(*args, **kwargs):
    return True
def _silent(*args, **kwargs):
    return None
np.allclose = _always
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = _always
numpy.testing.assert_allclose = _silent
_PATCHED = [np.allclose, numpy.testing.assert_allclose]
""" + WRONG.replace("return x * 0 + 0.5", "return _PATCHED and x * 0 + 0.5")
SABOTAGE_EXIT = "import sys\n_GONE = sys.exit(0)\n" + WRONG.replace(
    "return x * 0 + 0.5", "return _GONE or x * 0 + 0.5")


def write_class(root: Path) -> Path:
    """A class of students, each exercising one acceptance case of issue 2."""
    sources = solution_sources()
    demo_loop = "\n".join(sources) + "\nwhile True:\n    relu(1.0)\n"
    messy = ["%matplotlib inline\n!pip install numpy", *sources,
             "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
             "raise ValueError('scratch cell')"]
    students = {
        "reference/activations.ipynb": nbformat.read(REFERENCE, as_version=4),
        "stub/activations.ipynb": nbformat.read(STUB, as_version=4),
        "reversed/Activations (1).ipynb": notebook(list(reversed(sources))),
        "one_cell/activations_final.ipynb": notebook([demo_loop]),
        "magics/activations.ipynb": notebook(messy),
        "allclose/activations.ipynb": notebook([SABOTAGE_ALLCLOSE]),
        "exits/activations.ipynb": notebook([SABOTAGE_EXIT]),
    }
    for relative, nb in students.items():
        (root / relative).parent.mkdir(parents=True)
        nbformat.write(nb, root / relative)
    # (a byte copy of a course file is never graded: the reference with one more newline)
    reference = root / "reference" / "activations.ipynb"
    reference.write_bytes(reference.read_bytes() + b"\n")
    (root / "corrupt").mkdir()
    (root / "corrupt" / "activations.ipynb").write_text('{"cells": [', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    root = tmp_path_factory.mktemp("class")
    submissions = write_class(root / "submissions")
    out = root / "out"
    run = subprocess.run([*GRADE, str(submissions), "--out", str(out), "--assignment",
                          "activations", "--test-timeout-s", "10"],
                         capture_output=True, text=True, timeout=600, check=False)
    return run, out


def scores(out: Path) -> dict[str, float]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student"]: float(row["score"]) for row in csv.DictReader(handle)}


def test_run_exits_zero_and_prints_a_score_table(graded) -> None:
    run, _ = graded
    assert run.returncode == 0, run.stderr
    assert "student" in run.stdout and "activations" in run.stdout
    assert "Sandbox:" in run.stdout


def test_reference_scores_100_and_stub_0(graded) -> None:
    _, out = graded
    assert scores(out)["reference"] == 100
    assert scores(out)["stub"] == 0
    stub = json.loads((out / "stub" / "activations" / "results.json").read_text())
    statuses = {test["extra_data"]["status"] for test in stub["tests"]}
    assert statuses == {"not attempted"}


@pytest.mark.parametrize("student", ["reversed", "one_cell", "magics"])
def test_mangled_notebooks_with_right_code_score_100(graded, student: str) -> None:
    _, out = graded
    assert scores(out)[student] == 100


@pytest.mark.parametrize("student", ["allclose", "exits"])
def test_sabotage_at_import_scores_what_the_functions_earn(graded, student: str) -> None:
    _, out = graded
    assert scores(out)[student] == 0


def test_corrupt_notebook_is_one_students_error(graded) -> None:
    _, out = graded
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["corrupt"]["score"] == "0"
    assert "activations.ipynb" in rows["corrupt"]["error"]
    assert "\n" not in rows["corrupt"]["error"]


def test_feedback_never_shows_hidden_test_source(graded) -> None:
    _, out = graded
    hidden = (DEFAULT_ROOT / "solutions" / "hidden" / "test_activations.py").read_text()
    helper_lines = [line.strip() for line in hidden.splitlines()
                    if line.strip().startswith(("check_close(", "want =", "got ="))]
    assert helper_lines
    for report in out.glob("*/activations/feedback.*"):
        text = report.read_text()
        assert not any(line in text for line in helper_lines), report


def test_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    run = subprocess.run([*GRADE, str(tmp_path / "nope"), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "nope" in run.stderr


@pytest.mark.parametrize(("args", "env", "named"), [
    (["--memory-mb", "lots"], {}, "--memory-mb"),
    ([], {"GRADER_TEST_TIMEOUT_S": "-1"}, "GRADER_TEST_TIMEOUT_S"),
])
def test_bad_limit_names_its_source(tmp_path: Path, args: list[str], env: dict[str, str],
                                    named: str) -> None:
    run = subprocess.run([*GRADE, str(tmp_path), *args], capture_output=True, text=True,
                         env={**os.environ, **env}, check=False)
    assert run.returncode == 2
    assert named in run.stderr and run.stderr.count("\n") == 1
