"""The workflow templates: valid YAML with the steps README describes, actions pinned to commit
hashes, one torch pin, clean under zizmor; and every step that needs no GitHub run here, in
temporary student and runner folders with GitHub's variables and a stand-in `gh` that answers
(or fails) as the GitHub API would."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers.bundle import fill_stub, make_bundle
from helpers.github_outputs import github_outputs

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.paths import TEMPLATES_DIR
from grader.sandbox.bwrap import available as bwrap_problem

pytestmark = pytest.mark.slow  # workflow steps run on bundles

ROOT = DEFAULT_ROOT
TEMPLATES = TEMPLATES_DIR / "github"
WORKFLOWS = ("student.yml", "grading.yml")
STUDENT_STEPS = ["checkout", "python", "install", "public-checks", "dispatch"]
GRADING_STEPS = ["request", "head", "course", "submission", "python", "install", "sandbox",
                 "history", "grade", "record", "artifact", "pages", "deliver", "publish"]
SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"
PINNED = re.compile(r"^\s*(?:-\s*)?uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def load(name: str) -> dict:
    return yaml.safe_load((TEMPLATES / name).read_text())


def steps(workflow: dict) -> dict[str, dict]:
    return {step["id"]: step for job in workflow["jobs"].values() for step in job["steps"]
            if "id" in step}


def fake_gh(folder: Path, answers: list[dict]) -> dict[str, str]:
    """A `gh` (and an instant `sleep`) on PATH. Each call is logged; the first answer whose
    ``match`` is in the command line and whose ``fail_first`` count is used up prints ``out``
    (or the bytes of ``file``); before that, the call fails as a rate-limited request does."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "answers.json").write_text(json.dumps(answers))
    script = folder / "gh"
    script.write_text(f"""#!{sys.executable}
import json, pathlib, sys
here = pathlib.Path({str(folder)!r})
line = " ".join(sys.argv[1:])
with open(here / "calls.log", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
for number, answer in enumerate(json.loads((here / "answers.json").read_text())):
    if answer["match"] in line:
        seen = here / f"seen-{{number}}"
        count = int(seen.read_text()) + 1 if seen.exists() else 1
        seen.write_text(str(count))
        if count <= answer.get("fail_first", 0):
            print("gh: HTTP 403: You have exceeded a secondary rate limit", file=sys.stderr)
            sys.exit(1)
        if "file" in answer:
            sys.stdout.buffer.write(pathlib.Path(answer["file"]).read_bytes())
        else:
            sys.stdout.write(answer.get("out", ""))
        sys.exit(0)
print("gh: HTTP 404: Not Found", file=sys.stderr)
sys.exit(1)
""")
    script.chmod(0o755)
    (folder / "sleep").write_text("#!/bin/sh\nexit 0\n")
    (folder / "sleep").chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                    f"{os.environ['PATH']}"}


def gh_calls(folder: Path) -> list[list[str]]:
    log = folder / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run_step(step: dict, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A step's ``run`` script under bash, as a runner does (``python`` is this venv's)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full['PATH']}"
    full.update(env)
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300)


def gh_files(folder: Path, **extra: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.md").touch()
    (folder / "output.txt").write_text("")
    return {"CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
            "GITHUB_OUTPUT": str(folder / "output.txt"), **extra}


def outputs(env: dict[str, str]) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it (``name=value`` and ``name<<DELIMITER`` blocks)."""
    return github_outputs(Path(env["GITHUB_OUTPUT"]))


def test_templates_are_yaml_with_the_steps_readme_describes() -> None:
    page = (ROOT / "docs" / "push-grading.md").read_text()
    student, grading = load("student.yml"), load("grading.yml")
    assert "push" in student["on"] and student["permissions"] == {}
    assert grading["on"]["repository_dispatch"]["types"] == ["grade"]
    assert set(grading["on"]["workflow_dispatch"]["inputs"]) == {"repository", "sha"}
    assert grading["permissions"] == {}
    assert list(steps(student)) == STUDENT_STEPS
    assert list(steps(grading)) == GRADING_STEPS
    section = page  # docs/push-grading.md, README's "Autograding on push" before the site
    for step_id in STUDENT_STEPS + GRADING_STEPS:
        assert f"`{step_id}`" in section, step_id
    for secret in ("GRADING_DISPATCH_TOKEN", "STUDENT_REPOS_TOKEN", "COURSE_REPO_TOKEN"):
        assert secret in section
        assert any(secret in str(w) for w in (student, grading))
    # nothing the student controls reaches a script but through the environment
    for workflow in (student, grading):
        for step in steps(workflow).values():
            assert "${{" not in step.get("run", ""), step["id"]
    checkouts = [s for w in (student, grading) for s in steps(w).values()
                 if "checkout" in s.get("uses", "")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_actions_are_pinned_to_commit_hashes_of_releases() -> None:
    for name in WORKFLOWS:
        lines = [line for line in (TEMPLATES / name).read_text().splitlines()
                 if re.match(r"^\s*(-\s*)?uses:", line)]
        assert lines, name
        for line in lines:
            assert PINNED.match(line), f"{name}: not pinned to a hash with its version: {line}"


def test_one_torch_pin_in_both_workflows_and_readme() -> None:
    pins = {name: load(name)["env"]["TORCH_VERSION"] for name in WORKFLOWS}
    readme_pin = re.search(r"torch==([\d.]+)", (ROOT / "README.md").read_text())
    assert readme_pin
    assert set(pins.values()) == {readme_pin.group(1)}, pins
    for name in WORKFLOWS:  # and nothing installs an unpinned torch
        for step in steps(load(name)).values():
            assert not re.search(r"install[^\n]*\btorch\b(?!==)", step.get("run", "")), step


def test_only_pushes_to_the_default_branch_run_or_ask_for_grading() -> None:
    jobs = load("student.yml")["jobs"]
    for job in jobs.values():
        condition = job["if"]
        assert "github.ref_type == 'branch'" in condition
        assert "github.ref_name == github.event.repository.default_branch" in condition
    assert "github.event_name == 'push'" in jobs["notify-grader"]["if"]
    grade = load("grading.yml")["jobs"]["grade"]
    assert grade["concurrency"] == {
        "group": "grade-${{ needs.request.outputs.repository }}-"
                 "${{ needs.request.outputs.sha }}", "cancel-in-progress": False}
    assert grade["if"] == "${{ needs.request.outputs.current == 'true' }}"


def test_zizmor_finds_nothing_in_the_templates() -> None:
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or "zizmor"
    version = subprocess.run([zizmor, "--version"], capture_output=True, text=True)
    done = subprocess.run([zizmor, "--offline", "--persona=pedantic", "--no-progress",
                           *(str(TEMPLATES / name) for name in WORKFLOWS)],
                          capture_output=True, text=True, timeout=120)
    print(version.stdout.strip())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_request_is_checked_and_keyed_by_repository_and_commit(tmp_path: Path) -> None:
    request = steps(load("grading.yml"))["request"]
    good = {"REPOSITORY": "Org/Alice-Repo", "SHA": SHA, "COURSE_OWNER": "org",
            "COURSE_REPO": "org/course", "STUDENT_REPO_PREFIX": ""}
    env = gh_files(tmp_path / "gh", GITHUB_REPOSITORY="org/grading-runner")
    done = run_step(request, tmp_path, {**env, **good})
    assert done.returncode == 0, done.stderr
    assert outputs(env) == {"repository": "Org/Alice-Repo", "sha": SHA, "student": "Alice-Repo"}
    env = gh_files(tmp_path / "gh2", GITHUB_REPOSITORY="org/grading-runner")
    done = run_step(request, tmp_path, {**env, **good, "STUDENT_REPO_PREFIX": "NN-Fall-"})
    assert done.returncode == 0, done.stderr
    assert outputs(env)["student"] == "Alice-Repo"  # the prefix does not match: kept whole
    done = run_step(request, tmp_path, {**env, **good, "REPOSITORY": "org/nn-fall-alice",
                                        "STUDENT_REPO_PREFIX": "NN-Fall-"})
    assert outputs(env)["student"] == "alice"
    for bad in ({"REPOSITORY": "elsewhere/alice-repo"}, {"SHA": "HEAD; rm -rf /"},
                {"SHA": SHA.upper()}, {"REPOSITORY": "org/course"},
                {"REPOSITORY": "ORG/Course"}, {"REPOSITORY": "org/Grading-Runner"},
                {"REPOSITORY": "org/alice\n::set-output name=x::y"}):
        refused = run_step(request, tmp_path, {**env, **good, **bad})
        assert refused.returncode != 0, bad


@pytest.mark.parametrize(("head", "event", "fails", "current"), [
    (SHA, "repository_dispatch", 0, "true"),
    (OTHER_SHA, "repository_dispatch", 0, "false"),  # superseded: its successor is graded
    (OTHER_SHA, "workflow_dispatch", 0, "true"),  # staff grade a chosen commit by hand
    (SHA, "repository_dispatch", 3, "true"),  # rate-limited three times, then answered
    (SHA, "repository_dispatch", 99, None),  # never answered: the request fails, loudly
])
def test_only_the_head_of_the_default_branch_is_graded(
        tmp_path: Path, head: str, event: str, fails: int, current: str | None) -> None:
    bin_dir = tmp_path / "bin"
    env = {**gh_files(tmp_path / "gh"), **fake_gh(bin_dir, [
        {"match": "graphql", "out": head + "\n", "fail_first": fails}])}
    done = run_step(steps(load("grading.yml"))["head"], tmp_path, {
        **env, "REPOSITORY": "org/alice-repo", "SHA": SHA, "EVENT": event})
    calls = gh_calls(bin_dir)
    assert calls[0][:2] == ["api", "graphql"] and "owner=org" in calls[0]
    if current is None:
        assert done.returncode != 0 and len(calls) == 6
        assert "cannot read the head" in done.stdout
        return
    assert done.returncode == 0, done.stderr
    assert outputs(env)["current"] == current and len(calls) == fails + 1
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", outputs(env)["requested-at"])


@pytest.mark.parametrize("fails", [0, 4, 99])
def test_commit_status_retries_and_never_fails_the_job(tmp_path: Path, fails: int) -> None:
    bin_dir = tmp_path / "bin"
    env = {**gh_files(tmp_path / "gh"), **fake_gh(bin_dir, [
        {"match": "statuses", "out": "", "fail_first": fails}])}
    done = run_step(steps(load("grading.yml"))["publish"], tmp_path, {
        **env, "REPOSITORY": "org/alice-repo", "SHA": SHA, "POINTS": "87/100",
        "OUTCOME": "success"})
    assert done.returncode == 0, done.stderr
    calls = gh_calls(bin_dir)
    assert len(calls) == min(fails + 1, 7)
    assert "state=success" in calls[0] and "description=Points 87/100 (the course's records " \
        "decide the grade)" in calls[0]
    assert ("no commit status" in done.stdout) == (fails >= 7)
    failed = run_step(steps(load("grading.yml"))["publish"], tmp_path, {
        **env, "REPOSITORY": "org/alice-repo", "SHA": SHA, "POINTS": "", "OUTCOME": "failure"})
    assert failed.returncode == 0 and "state=error" in gh_calls(bin_dir)[-1]
    refused = run_step(steps(load("grading.yml"))["publish"], tmp_path, {
        **env, "REPOSITORY": "org/alice-repo", "SHA": SHA, "POINTS": "", "OUTCOME": "success",
        "PRACTICE": "graded too soon: the next grading is allowed at 2026-10-01 12:00 UTC"})
    assert refused.returncode == 0 and "state=failure" in gh_calls(bin_dir)[-1]
    assert "description=Not graded: graded too soon: the next grading is allowed at " \
        "2026-10-01 12:00 UTC" in gh_calls(bin_dir)[-1]


def test_dispatch_retries_then_fails_loudly(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    env = {**gh_files(tmp_path / "gh"), **fake_gh(bin_dir, [
        {"match": "dispatches", "out": "", "fail_first": 7}])}
    base = {**env, "GRADING_RUNNER": "org/grading-runner", "GITHUB_REPOSITORY": "org/alice",
            "GITHUB_SHA": SHA}
    dispatch = steps(load("student.yml"))["dispatch"]
    assert run_step(dispatch, tmp_path, base).returncode == 0
    assert len(gh_calls(bin_dir)) == 8
    assert f"client_payload[sha]={SHA}" in gh_calls(bin_dir)[-1]
    down = {**env, **fake_gh(tmp_path / "down", [])}
    done = run_step(dispatch, tmp_path, {**base, **down})
    assert done.returncode != 0 and "did not take the request" in done.stdout


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
    assert "activations (activations.ipynb): 11/11 public checks passed" in done.stdout
    assert "## Public checks (advisory)" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()

    # the grading runner: `course` (grader + hidden suites) and `submission` side by side
    runner = tmp_path / "grading-runner"
    runner.mkdir()
    (runner / "course").symlink_to(ROOT)
    shutil.copytree(student_repo, runner / "submission")
    grading = steps(load("grading.yml"))
    env = gh_files(tmp_path / "gh-grading", GITHUB_REPOSITORY="org/grading-runner")
    # `history`: this runner's earlier records of the student, for the practice cooldown
    earlier = json.dumps({"name": f"score-alice-repo-{OTHER_SHA}-1",
                          "created_at": "2026-09-30T10:00:00Z"})
    fake = fake_gh(tmp_path / "bin-history", [
        {"match": "repos/org/grading-runner/actions/artifacts?per_page=100",
         "out": earlier + "\n", "fail_first": 1}])
    done = run_step(grading["history"], runner, {**env, **fake})
    assert done.returncode == 0, done.stderr
    assert (runner / "practice-history.jsonl").read_text() == earlier + "\n"
    command = grading["grade"]["run"]
    if bwrap_problem() is not None:  # the runner installs bubblewrap; this machine lacks it
        command = command.replace("--sandbox bwrap", "--sandbox process")
    done = run_step({"run": command}, runner, {**env, "STUDENT": "alice-repo"})
    assert done.returncode == 0, done.stderr
    assert outputs(env)["points"] == "100/100"
    assert "Points 100/100" in done.stdout
    assert "# Autograder: Points 100/100" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert (runner / "report" / "alice-repo" / "activations" / "feedback.html").is_file()

    # the record: what the artifact keeps and `grade collect` reads
    done = run_step(grading["record"], runner, {
        **env, "REPOSITORY": "org/alice-repo", "SHA": SHA, "STUDENT": "alice-repo",
        "REQUESTED_AT": "2026-10-01T10:00:00Z", "OUTCOME": "success", "RUN_ID": "42"})
    assert done.returncode == 0, done.stderr
    record = json.loads((runner / "report" / "record.json").read_text())
    assert record["student"] == "alice-repo" and record["outcome"] == "success"
    gradebook = tmp_path / "gradebook.csv"
    done = subprocess.run([sys.executable, "-m", "grader.cli", "collect", str(runner / "report"),
                           "--out", str(gradebook)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(gradebook.open()))
    assert [(r["student"], r["activations"], r["total"]) for r in rows] == [
        ("alice-repo", "100", "100")]

    # the artifacts as the instructor fetches them, zipped, through the GitHub API
    archive = tmp_path / "artifact.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((runner / "report").rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(runner / "report").as_posix())
    bin_dir = tmp_path / "bin"
    listing = f"7 score-alice-repo-{SHA}-1\n8 score-bob-{SHA}-1\n9 bad name\n"
    fake = fake_gh(bin_dir, [{"match": "artifacts?per_page", "out": listing},
                             {"match": "artifacts/7/zip", "file": str(archive)},
                             {"match": "artifacts/8/zip", "file": str(archive)}])
    records = tmp_path / "records"
    fetch = subprocess.run(["bash", str(TEMPLATES / "fetch-records.sh"), "org/grading-runner",
                            str(records)], env={**os.environ, **fake}, capture_output=True,
                           text=True, timeout=60)
    assert fetch.returncode == 0, fetch.stderr
    assert "fetched 2 new records" in fetch.stdout and "skipped: not a grading record" in \
        fetch.stderr
    assert sorted(p.name for p in records.iterdir()) == ["7.zip", "8.zip"]
    again = subprocess.run(["bash", str(TEMPLATES / "fetch-records.sh"), "org/grading-runner",
                            str(records)], env={**os.environ, **fake}, capture_output=True,
                           text=True, timeout=60)
    assert "fetched 0 new records" in again.stdout
    done = subprocess.run([sys.executable, "-m", "grader.cli", "collect", str(records),
                           "--out", str(gradebook)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [r["total"] for r in csv.DictReader(gradebook.open())] == ["100"]
