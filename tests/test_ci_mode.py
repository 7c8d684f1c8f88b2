"""`grade ci`: one student's checkout graded in CI, with the points `grade run` gives."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.github_outputs import github_env, github_outputs

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import (
    ERROR,
    FAILED,
    PASSED,
    RunResult,
    SubmissionResult,
    TestResult,
    grader_failed,
)
from grader.core.settings import Settings
from grader.integrations.ci import CiRequest, ci, classroom_result
from grader.run.student import student_id, submission_files

pytestmark = pytest.mark.slow  # a student graded through the CLI in real sandboxes

ROOT = DEFAULT_ROOT
GRADE = [sys.executable, "-m", "grader.cli"]
BUG = ("return np.maximum(0, x)", "return x")  # relu keeps negative values


def buggy_checkout(folder: Path) -> Path:
    """A student's repository: the activations notebook with a relu bug, plus bundle files
    that are not submissions (a public test, the self-check)."""
    notebook = (ROOT / "solutions" / "activations.ipynb").read_text()
    assert BUG[0] in notebook
    (folder / "activations" / "public").mkdir(parents=True)
    (folder / "selfcheck").mkdir()
    (folder / "activations" / "activations.ipynb").write_text(notebook.replace(*BUG))
    shutil.copy(ROOT / "assignments" / "activations" / "public" / "test_activations_public.py",
                folder / "activations" / "public")
    (folder / "selfcheck" / "__init__.py").write_text("")
    (folder / "conftest.py").write_text("")
    return folder


def test_ci_points_equal_the_gradebook_and_a_failing_student_exits_0(tmp_path: Path) -> None:
    checkout = buggy_checkout(tmp_path / "alice-repo")
    submissions = tmp_path / "submissions"
    (submissions / "alice-repo").mkdir(parents=True)
    shutil.copy(checkout / "activations" / "activations.ipynb", submissions / "alice-repo")
    # the student's checkout is no course: the course is named (the grading runner: --course)
    ci_env = github_env(tmp_path / "gh", GITHUB_REPOSITORY="org/alice-repo",
                        GRADER_COURSE=str(ROOT))
    common = ["--sandbox", "process"]
    # two gradings at once: the gradebook and `grade ci PATH`
    gradebook = subprocess.Popen([*GRADE, str(submissions), "--out", str(tmp_path / "book"),
                                  "--assignment", "activations", "-j", "1", *common],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
    in_ci = subprocess.Popen([*GRADE, "ci", ".", "--out", str(tmp_path / "report"), *common],
                             cwd=checkout, env=ci_env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    book_out, book_err = gradebook.communicate(timeout=120)
    ci_out, ci_err = in_ci.communicate(timeout=120)
    assert gradebook.returncode == 0, book_err

    rows = list(csv.DictReader((tmp_path / "book" / "grades.csv").open()))
    assert [(r["student"], r["assignment"]) for r in rows] == [("alice-repo", "activations")]
    score, max_score = rows[0]["score"], rows[0]["max_score"]
    assert 0 < float(score) < 100  # the bug costs relu's points, nothing else

    assert in_ci.returncode == 0, ci_err  # a failing student is a score, not a broken build
    assert f"Points {score}/{max_score}" in ci_out.splitlines()
    summary = Path(ci_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith(f"# Autograder: Points {score}/{max_score}")
    assert "`activations/activations.ipynb`" in summary
    assert "relu" in summary and "## What went wrong" in summary  # the feedback report
    out = github_outputs(Path(ci_env["GITHUB_OUTPUT"]))
    assert out["points"] == f"{score}/{max_score}" and out["status"] == "fail"
    result = json.loads(base64.b64decode(out["result"]))
    assert result["version"] == 1 and result["max_score"] == float(max_score)
    assert sum(t["score"] for t in result["tests"]) == pytest.approx(float(score))
    report = tmp_path / "report"
    assert json.loads((report / "classroom.json").read_text()) == result
    assert (report / "alice-repo" / "activations" / "feedback.html").is_file()
    gradescope = json.loads((report / "alice-repo" / "activations" / "results.json").read_text())
    assert gradescope["score"] == pytest.approx(float(score))
    assert gradescope["extra_data"]["file"] == "activations/activations.ipynb"
    assert "not graded" not in ci_out  # public tests, conftest and selfcheck are skipped


def test_student_id_and_the_files_a_checkout_submits(tmp_path: Path) -> None:
    repo = buggy_checkout(tmp_path / "bob-repo")
    (repo / "notes.py").write_text("x = 1\n")
    (repo / ".hidden").mkdir()
    (repo / ".hidden" / "a.ipynb").write_text("{}")
    (repo / "link.ipynb").symlink_to(ROOT / "solutions" / "activations.ipynb")
    files = {p.as_posix() for p in submission_files(repo)}
    assert files == {"activations/activations.ipynb", "notes.py"}
    assert student_id(repo, None, {}) == "bob-repo"
    assert student_id(repo, None, {"GITHUB_REPOSITORY": "org/carol"}) == "carol"
    assert student_id(repo, "dave", {"GITHUB_REPOSITORY": "org/carol"}) == "dave"
    notebook = repo / "activations" / "activations.ipynb"
    assert submission_files(notebook) == [Path("activations.ipynb")]
    assert student_id(notebook, None, {}) == "activations"


def result_with(*tests: TestResult, error: str | None = None,
                grader_error: bool = False) -> SubmissionResult:
    return SubmissionResult(student="s", assignment="activations", path="a.ipynb",
                            tests=tests, error=error, grader_error=grader_error)


def test_classroom_result_and_grader_failure() -> None:
    ok = TestResult("test_a", "a", PASSED, 2.0, 2.0)
    bad = TestResult("test_b", "b", FAILED, 0.0, 3.0, message="got 1, expected 2")
    broken = TestResult("test_c", "c", ERROR, 0.0, 5.0)
    doc = classroom_result(RunResult(results=(result_with(ok, bad),)), 5.0, False)
    assert doc["status"] == "fail" and doc["max_score"] == 5.0
    assert [(t["status"], t["score"]) for t in doc["tests"]] == [("pass", 2.0), ("fail", 0.0)]
    assert doc["tests"][1]["message"] == "got 1, expected 2\nResult: failed"  # engine words
    assert not grader_failed(result_with(ok, bad))
    assert not grader_failed(result_with(error="Your notebook is not valid JSON"))
    assert grader_failed(result_with(ok, broken))
    assert grader_failed(result_with(error="The grader failed on this submission (X: y)",
                                     grader_error=True))
    # the flag decides, not the words: a student cannot fake a grader failure (or hide one)
    assert not grader_failed(result_with(error="The grader failed on this submission"))


def fake_grading(monkeypatch: pytest.MonkeyPatch, *results: SubmissionResult) -> list[tuple]:
    """Replace the grading run (tested above) by fixed results; record its arguments."""
    import grader.run.student as student_module

    calls: list[tuple] = []

    def grade_discovery(discovery, course, settings, only=(), **options):
        calls.append((sorted(f"{s.student}/{s.path.name}" for s in discovery.submissions),
                      tuple(only)))
        return RunResult(results=results, sandbox="test")

    monkeypatch.setattr(student_module, "grade_discovery", grade_discovery)
    return calls


def test_a_grader_failure_exits_1_with_the_report_written(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    crashed = SubmissionResult(student="erin", assignment="activations",
                               path=str(tmp_path / "x"), grader_error=True,
                               error="The grader failed on this submission (OSError: disk)")
    fake_grading(monkeypatch, crashed)
    checkout = buggy_checkout(tmp_path / "erin")
    env = github_env(tmp_path / "gh")
    outcome = ci(CiRequest(path=checkout, out_dir=tmp_path / "out"), load_course(ROOT),
                 Settings(course_root=ROOT, sandbox="process"), env=env, echo=lambda _: None)
    assert outcome.grader_failed and outcome.exit_code == 1
    assert github_outputs(Path(env["GITHUB_OUTPUT"]))["status"] == "error"
    assert (tmp_path / "out" / "ci-summary.md").is_file()
    assert re.search(r"Points 0/100", Path(env["GITHUB_STEP_SUMMARY"]).read_text())


def test_grade_notebook_is_ci_mode_and_fail_under_exits_1(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`grade NOTEBOOK` (and `grade --ci PATH`) route to `grade ci`; --fail-under 99 turns a
    score of 3/100 into exit 1, without it the same score exits 0."""
    from click.testing import CliRunner

    from grader.cli.main import main

    graded = result_with(TestResult("test_a", "a", PASSED, 3.0, 3.0),
                         TestResult("test_b", "b", FAILED, 0.0, 2.0))
    calls = fake_grading(monkeypatch, graded)
    checkout = buggy_checkout(tmp_path / "frank")
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("GRADER_COURSE", str(ROOT))  # a student's checkout is no course
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    runner = CliRunner()
    single = runner.invoke(main, ["activations/activations.ipynb", "--out", str(tmp_path / "a"),
                                  "--fail-under", "99", "--sandbox", "process"])
    assert single.exit_code == 1, single.output
    assert "Points 3/100" in single.output and "below --fail-under 99" in single.output
    assert calls[-1] == (["activations/activations.ipynb"], ("activations",))
    folder = runner.invoke(main, ["--ci", ".", "--out", str(tmp_path / "b"),
                                  "--sandbox", "process"])
    assert folder.exit_code == 0, folder.output
    assert "Points 3/100" in folder.output
    assert calls[-1] == (["frank/activations.ipynb"], ("activations",))
