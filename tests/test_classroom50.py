"""Classroom 50: the autograder folders `grade classroom50 build` writes,
and those autograders run as Classroom 50's runner runs them (in a student's checkout, with
its variables), giving the points `grade` gives, in a result.json its collector accepts."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.bundle import fill_stub
from helpers.classroom50 import contract_problems, git_checkout, runner_env
from helpers.github_outputs import github_outputs

from grader.commands.classroom50 import BuildRequest, build
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.core.results import FAILED, PASSED, SubmissionResult, TestResult
from grader.integrations.classroom50 import Identity, result_document, scale_for, status_and_summary

pytestmark = pytest.mark.slow  # students graded through the CLI in real sandboxes

ROOT = DEFAULT_ROOT
COURSE = load_course(ROOT)
GRADE = [sys.executable, "-m", "grader.cli"]
IDENTITY = Identity(classroom="nn-fall", assignment="activations", owner="alice",
                    assignment_type="individual", submission="submit/2026-10-01T10-00-00Z-abc",
                    commit="https://github.com/o/r/commit/x",
                    release="https://github.com/o/r/releases/tag/x",
                    review="https://github.com/o/r/compare/a...x")


# ----------------------------------------------------------------------------- result.json


def _result(assignment: str, *tests: tuple[str, float, bool]) -> SubmissionResult:
    return SubmissionResult(student="alice", assignment=assignment, path=f"{assignment}.ipynb",
                            tests=tuple(TestResult(name=n, description=f"{n} works",
                                                   status=PASSED if ok else FAILED,
                                                   score=p if ok else 0.0, max_score=p,
                                                   message="" if ok else "wrong")
                                        for n, p, ok in tests))


def test_result_document_keeps_grades_points_exactly_at_the_smallest_scale() -> None:
    whole = _result("activations", ("a", 60, True), ("b", 40, False))
    halves = _result("forward", ("a", 62.5, True), ("b", 37.5, False))
    thirds = _result("backprop", ("a", 100 / 3, True), ("b", 200 / 3, False))
    missing = SubmissionResult(student="alice", assignment="training", path=None)
    for results, scale, score, top in (([whole], 1, 60, 100), ([halves], 10, 625, 1000),
                                       ([whole, halves], 10, 1225, 2000),
                                       ([thirds], 100, 3333, 10000),
                                       ([whole, missing], 1, 60, 200)):
        doc = result_document(results, IDENTITY, "2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z")
        assert contract_problems(doc, "nn-fall", "activations", "alice") == []
        assert (doc["score"], doc["max-score"]) == (score, top), results
        assert doc["score"] == sum(t["score"] for t in doc["tests"])
        exact = sum(r.score for r in results)
        assert abs(doc["score"] / scale - exact) <= 0.005 * len(doc["tests"])
        state, summary = status_and_summary(doc)
        assert state == "failure" and f"Points {exact:.2f}".rstrip("0").rstrip(".") in summary
    assert scale_for([0.25, 1]) == 100 and scale_for([3, 4]) == 1
    doc = result_document([missing], IDENTITY, "2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z")
    assert doc["tests"] == [{"test-name": "training: notebook", "passed": False, "score": 0,
                             "max-score": 100, "points": 0.0, "max-points": 100.0,
                             "status": "missing",
                             "message": "No notebook for this assignment was found."}]
    passed = result_document([_result("forward", ("a", 5, True))], IDENTITY, "x", "y")
    assert status_and_summary(passed) == ("success",
                                          "nn-grader: Points 5/5 (1/1 tests passed)")


# ----------------------------------------------------------------------------- build


def test_build_writes_one_autograder_per_assignment(tmp_path: Path) -> None:
    classroom = tmp_path / "nn-fall"
    written = build(BuildRequest(classroom_dir=classroom), COURSE, echo=lambda _: None)
    assert [p.name for p in written] == [a.id for a in COURSE.assignments]
    folder = classroom / "autograders" / "forward"
    config = json.loads((folder / "nn-grader.json").read_text())
    assert config["assignments"] == ["forward"] and config["torch"] == "2.13.0"
    assert json.loads((folder / "runtime.json").read_text())["apt"] == ["bubblewrap"]
    course = folder / "course"
    assert sorted(p.name for p in (course / "assignments").iterdir()) == ["forward"]
    assert sorted(p.name for p in (course / "solutions" / "hidden").iterdir()) == [
        "budgets.json", "pytest.ini", "test_forward.py"]  # budgets.json: the test budgets
    assert (course / "solutions" / "course_secret").read_bytes() == \
        COURSE.secret_file.read_bytes()
    assert not list(course.rglob("*.ipynb")) or all(
        "solutions" not in p.parts for p in course.rglob("*.ipynb"))  # no reference notebook
    assert (folder / "nn-grader" / "grader" / "cli" / "main.py").is_file()
    assert load_course(course).assignments[0].id == "forward"
    with pytest.raises(ConfigError, match="exists"):
        build(BuildRequest(classroom_dir=classroom, only=("forward",)), COURSE)
    build(BuildRequest(classroom_dir=classroom, only=("forward",), force=True), COURSE,
          echo=lambda _: None)
    (classroom / "autograders" / "mine").mkdir()
    with pytest.raises(ConfigError, match="not written by"):
        build(BuildRequest(classroom_dir=classroom, slug="mine", force=True), COURSE)
    for bad in (BuildRequest(classroom_dir=classroom, slug="Bad_Slug"),
                BuildRequest(classroom_dir=classroom, only=("nope",))):
        with pytest.raises(ConfigError):
            build(bad, COURSE)
    both = build(BuildRequest(classroom_dir=classroom, only=("activations", "forward"),
                              slug="nn"), COURSE, echo=lambda _: None)
    assert json.loads((both[0] / "nn-grader.json").read_text())["assignments"] == [
        "activations", "forward"]


# ----------------------------------------------------------------------------- a local run


def test_autograder_gives_the_points_grade_gives(tmp_path: Path) -> None:
    activations = COURSE.get("activations")
    notebooks = {"alice": fill_stub(activations.stub, activations.reference,
                                    tmp_path / "alice.ipynb"),
                 "bob": fill_stub(activations.stub, activations.reference, tmp_path / "bob.ipynb",
                                  replace={"axis=-1": "axis=0"})}  # softmax over columns
    done = subprocess.run([*GRADE, "classroom50", "build", str(tmp_path / "nn-fall"),
                           "--assignment", "activations"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "every student can read them" in done.stdout
    folder = tmp_path / "nn-fall" / "autograders" / "activations"
    submissions = tmp_path / "submissions"
    for owner, notebook in notebooks.items():
        (submissions / owner).mkdir(parents=True)
        (submissions / owner / "activations.ipynb").write_bytes(notebook.read_bytes())
    done = subprocess.run([*GRADE, str(submissions), "--out", str(tmp_path / "out"), "-q",
                           "--assignment", "activations"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    expected = {row["student"]: float(row["score"]) for row in
                csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    assert expected["alice"] == 100 and 0 < expected["bob"] < 100

    for owner, notebook in notebooks.items():
        checkout = git_checkout(tmp_path / f"nn-fall-activations-{owner}", notebook)
        env = runner_env(tmp_path, owner)
        run = subprocess.run([sys.executable, str(folder / "autograder.py")], cwd=checkout,
                             env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        doc = json.loads((checkout / "result.json").read_text())
        assert contract_problems(doc, "nn-fall", "activations", owner) == []
        assert doc["score"] == expected[owner] and doc["max-score"] == 100
        committed = subprocess.run(["git", "show", "-s", "--format=%cI"], cwd=checkout,
                                   capture_output=True, text=True).stdout.strip()
        assert doc["datetime"][:16] == \
            subprocess.run(["date", "-u", "-d", committed, "+%Y-%m-%dT%H:%M"],
                           capture_output=True, text=True).stdout.strip()
        assert doc["submitted_by"] == {"username": owner, "id": 77}
        state = "success" if expected[owner] == 100 else "failure"
        outputs = github_outputs(Path(env["GITHUB_OUTPUT"]))
        assert outputs["status"] == state
        assert outputs["summary"].startswith(f"nn-grader: Points {expected[owner]:g}/100 (")
        body = (checkout / "release-body.md").read_text()
        assert f"# Autograder: Points {expected[owner]:g}/100" in body
        assert "Sandbox: " in run.stdout


def test_autograder_reports_a_grader_failure_as_an_error(tmp_path: Path) -> None:
    activations = COURSE.get("activations")
    folder = build(BuildRequest(classroom_dir=tmp_path / "c", only=("activations",)), COURSE,
                   echo=lambda _: None)[0]
    suite = folder / "course" / "solutions" / "hidden" / "test_activations.py"
    suite.write_text(suite.read_text() + "\n\n@pytest.mark.points(1)\ndef test_zz_broken(student)"
                     ":\n    raise RuntimeError('a bug in the grader')\n")
    checkout = git_checkout(tmp_path / "repo", fill_stub(activations.stub, activations.reference,
                                                       tmp_path / "a.ipynb"))
    env = runner_env(tmp_path, "alice")
    run = subprocess.run([sys.executable, str(folder / "autograder.py")], cwd=checkout, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    assert not (checkout / "result.json").exists()  # the planted one is gone, none written
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""
    del env["SUBMISSION_TAG"]
    run = subprocess.run([sys.executable, str(folder / "autograder.py")], cwd=checkout, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 2 and "$SUBMISSION_TAG: not set" in run.stderr
