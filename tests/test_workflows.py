"""The workflow templates: valid YAML, the steps README describes, and the steps that need no
GitHub run here, in temporary student and grading repositories with GitHub's variables."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from github_outputs import github_outputs
from test_release import fill_stub, make_bundle

from grader.course import DEFAULT_ROOT, load_course
from grader.sandbox.bwrap import available as bwrap_problem

ROOT = DEFAULT_ROOT
TEMPLATES = ROOT / "templates" / "github"
STUDENT_STEPS = ["install", "public-checks", "dispatch"]
GRADING_STEPS = ["request", "pending", "course", "submission", "install", "sandbox", "grade",
                 "publish", "artifact"]
SHA = "0123456789abcdef0123456789abcdef01234567"


def load(name: str) -> dict:
    return yaml.safe_load((TEMPLATES / name).read_text())


def steps(workflow: dict) -> dict[str, dict]:
    return {step["id"]: step for job in workflow["jobs"].values() for step in job["steps"]
            if "id" in step}


def run_step(step: dict, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A step's ``run`` script under bash, as a runner does (``python`` is this venv's)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full['PATH']}"
    full.update(env)
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120)


def gh_files(folder: Path, **extra: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.md").touch()
    (folder / "output.txt").touch()
    return {"CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
            "GITHUB_OUTPUT": str(folder / "output.txt"), **extra}


def test_templates_are_yaml_with_the_steps_readme_describes() -> None:
    readme = (ROOT / "README.md").read_text()
    student, grading = load("student.yml"), load("grading.yml")
    assert "push" in student["on"] and student["permissions"] == {"contents": "read"}
    assert grading["on"]["repository_dispatch"]["types"] == ["grade"]
    assert set(grading["on"]["workflow_dispatch"]["inputs"]) == {"repository", "sha"}
    assert list(steps(student)) == STUDENT_STEPS
    assert list(steps(grading)) == GRADING_STEPS
    section = readme[readme.index("## Autograding on push"):]
    for step_id in STUDENT_STEPS + GRADING_STEPS:
        assert f"`{step_id}`" in section, step_id
    for secret in ("GRADING_DISPATCH_TOKEN", "STUDENT_REPOS_TOKEN", "COURSE_REPO_TOKEN"):
        assert secret in section
        assert any(secret in str(w) for w in (student, grading))
    # nothing the student controls is trusted: the payload reaches scripts only via env
    for step in steps(grading).values():
        assert "${{" not in step.get("run", ""), step["id"]
    checkouts = [s for s in steps(grading).values() if "checkout" in s.get("uses", "")]
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_student_and_grading_repository_steps_run(tmp_path: Path) -> None:
    course = load_course(ROOT)
    activations = course.get("activations")
    # the student's repository: the bundle with its workflow, a filled notebook, pushed
    student_repo = make_bundle(tmp_path / "alice-repo", "activations", with_workflow=True)
    shipped = student_repo / ".github" / "workflows" / "public-checks.yml"
    assert shipped.read_text() == (TEMPLATES / "student.yml").read_text()
    notebook = student_repo / "activations" / "activations.ipynb"
    fill_stub(notebook, activations.reference, notebook)
    student = steps(load("student.yml"))
    env = gh_files(tmp_path / "gh-student", GITHUB_REPOSITORY="org/alice-repo", GITHUB_SHA=SHA)
    done = run_step(student["public-checks"], student_repo, env)
    assert done.returncode == 0, done.stderr
    assert "relu: 2/2 public checks passed" in done.stdout
    assert "## Public checks (advisory)" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()

    # the grading runner: `course` (grader + hidden suites) and `submission` side by side
    runner = tmp_path / "grading-runner"
    runner.mkdir()
    (runner / "course").symlink_to(ROOT)
    shutil.copytree(student_repo, runner / "submission")
    grading = steps(load("grading.yml"))
    env = gh_files(tmp_path / "gh-grading", GITHUB_REPOSITORY="org/grading-runner")
    request = {"REPOSITORY": "org/alice-repo", "SHA": SHA, "COURSE_OWNER": "org",
               "COURSE_REPO": "org/course"}
    done = run_step(grading["request"], runner, {**env, **request})
    assert done.returncode == 0, done.stderr
    found = dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().split())
    assert found == {"repository": "org/alice-repo", "sha": SHA, "student": "alice-repo"}
    for bad in ({"REPOSITORY": "elsewhere/alice-repo"}, {"SHA": "HEAD; rm -rf /"},
                {"REPOSITORY": "org/course"}, {"REPOSITORY": "org/grading-runner"}):
        refused = run_step(grading["request"], runner, {**env, **request, **bad})
        assert refused.returncode != 0, bad

    command = grading["grade"]["run"]
    if bwrap_problem() is not None:  # the runner installs bubblewrap; this machine lacks it
        command = command.replace("--sandbox bwrap", "--sandbox process")
    done = run_step({"run": command}, runner, {**env, "STUDENT": found["student"]})
    assert done.returncode == 0, done.stderr
    assert github_outputs(Path(env["GITHUB_OUTPUT"]))["points"] == "100/100"
    assert "Points 100/100" in done.stdout
    assert "# Autograder: Points 100/100" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert (runner / "report" / "alice-repo" / "activations" / "feedback.html").is_file()
    assert (runner / "report" / "classroom.json").is_file()
