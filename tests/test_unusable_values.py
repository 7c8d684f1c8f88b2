"""Only the grader fails as the grader (issue 22): a student whose functions return bfloat16
tensors, which the hidden suite cannot use (``.numpy()`` raises TypeError), is graded: status
``graded``, a low score, and the explanation, never "the grader could not run this check".
On every path: ``grade``, ``grade ci``, ``grade gradescope-run`` and the Classroom 50
autograder. A suite that breaks on its own (no unusual value returned) is still a grader error
(tests/test_classroom50.py::test_autograder_reports_a_grader_failure_as_an_error).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from helpers.classroom50 import git_checkout, runner_env
from helpers.github_outputs import github_env

from grader.commands.classroom50 import BuildRequest, build
from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import Settings

ROOT = DEFAULT_ROOT
GRADE = [sys.executable, "-m", "grader.cli"]
EXPLANATION = "returned a bfloat16 tensor, which the checks cannot use; return float32 or float64"
BF16_CELL = ("import torch\n\n"
             "def relu(x):\n    return torch.as_tensor(np.maximum(0, x)).to(torch.bfloat16)\n\n"
             "def sigmoid(x):\n    return torch.sigmoid(torch.as_tensor(x)).to(torch.bfloat16)\n")


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    """A folder the sandbox's unprivileged worker can traverse (pytest's tmp folders are not)."""
    folder = Path(tempfile.mkdtemp(prefix="unusable-values-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def bf16_notebook(base: Path) -> Path:
    notebook = nbformat.read(ROOT / "demo" / "submissions" / "alice" / "activations.ipynb",
                             as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(BF16_CELL))
    path = base / "bf16.ipynb"
    nbformat.write(notebook, path)
    return path


def _explained(tests: list[dict]) -> list[dict]:
    return [t for t in tests if EXPLANATION in (t.get("output") or t.get("message") or "")]


@pytest.fixture(scope="module")
def graded_class(base: Path, bf16_notebook: Path) -> dict[str, dict[str, str]]:
    submissions = base / "submissions"
    for name, source in (("bf16", bf16_notebook),
                         ("honest", ROOT / "demo" / "submissions" / "alice" / "activations.ipynb")):
        (submissions / name).mkdir(parents=True)
        shutil.copy(source, submissions / name / "activations.ipynb")
    # `grade`'s own function in this process (the other paths below are whole CLI runs)
    run(RunRequest(submissions_dir=submissions, out_dir=base / "out", only=("activations",),
                   quiet=True), load_course(ROOT), Settings(course_root=ROOT),
        echo=lambda _: None)
    with open(base / "out" / "grades.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_grade_scores_the_bfloat16_student_as_graded(base: Path, graded_class) -> None:
    row = graded_class["bf16"]
    assert row["status"] == "graded" and 0 < float(row["score"]) < 100, row
    assert graded_class["honest"]["score"] == "100"
    document = json.loads((base / "out" / "bf16" / "activations" / "results.json").read_text())
    assert len(_explained(document["tests"])) >= 2  # relu's and sigmoid's tests say why
    assert "tell the course staff" not in json.dumps(document)


@pytest.mark.slow  # one more cold CLI path end to end; `grade` keeps the fact in the quick tier
def test_grade_ci_reports_a_score_not_a_grader_failure(base: Path, bf16_notebook: Path,
                                                       graded_class) -> None:
    checkout = base / "bf16-repo"
    checkout.mkdir()
    shutil.copy(bf16_notebook, checkout / "activations.ipynb")
    # a student's checkout is no course: the runner names the course (as grading.yml does)
    env = github_env(base / "gh", GITHUB_REPOSITORY="org/bf16-repo", GRADER_COURSE=str(ROOT))
    done = subprocess.run([*GRADE, "ci", ".", "--out", str(base / "ci-report"), "--assignment",
                           "activations"], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    score = graded_class["bf16"]["score"]
    assert f"Points {score}/100" in done.stdout.splitlines()
    classroom = json.loads((base / "ci-report" / "classroom.json").read_text())
    assert classroom["status"] == "fail"
    assert not [t for t in classroom["tests"] if t["status"] == "error"]
    assert any(EXPLANATION in t["message"] for t in classroom["tests"])


@pytest.mark.slow  # one more cold CLI path end to end; `grade` keeps the fact in the quick tier
def test_gradescope_run_gives_the_student_their_grade(base: Path, bf16_notebook: Path,
                                                      graded_class) -> None:
    root = base / "gradescope"
    (root / "source").mkdir(parents=True)
    archive = base / "autograder.zip"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    done = subprocess.run([*GRADE, "gradescope", str(archive), "--assignment", "activations"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(bf16_notebook, root / "submission" / "activations.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "bf16"}]}))
    done = subprocess.run([*GRADE, "gradescope-run", "--root", str(root)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((root / "results" / "results.json").read_text())
    assert document["extra_data"].get("grader_failed") is not True
    assert "not your grade" not in document.get("output", "")
    assert document["score"] == pytest.approx(float(graded_class["bf16"]["score"]))
    assert _explained(document["tests"])


@pytest.mark.slow  # one more cold CLI path end to end; `grade` keeps the fact in the quick tier
def test_classroom50_writes_the_students_result(base: Path, bf16_notebook: Path,
                                                graded_class) -> None:
    course = load_course(ROOT)
    folder = build(BuildRequest(classroom_dir=base / "classroom", only=("activations",)),
                   course, echo=lambda _: None)[0]
    checkout = git_checkout(base / "nn-fall-activations-bf16", bf16_notebook)
    env = runner_env(base, "bf16")
    done = subprocess.run([sys.executable, str(folder / "autograder.py")], cwd=checkout,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((checkout / "result.json").read_text())
    assert result["score"] == float(graded_class["bf16"]["score"])
