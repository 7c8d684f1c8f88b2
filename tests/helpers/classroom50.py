"""A student's repository and the environment Classroom 50's runner gives a grading job."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$")


def git_checkout(folder: Path, notebook: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "activations.ipynb").write_bytes(notebook.read_bytes())
    (folder / "result.json").write_text('{"score": 100, "planted": true}')  # the student's
    git = ["git", "-c", "user.name=s", "-c", "user.email=s@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "work"]):
        subprocess.run([*git, *args], cwd=folder, check=True, capture_output=True)
    return folder


def runner_env(tmp_path: Path, owner: str) -> dict[str, str]:
    output = tmp_path / f"output-{owner}.txt"
    output.write_text("")
    return {**os.environ, "CLASSROOM": "nn-fall", "ASSIGNMENT": "activations",
            "SUBMISSION_TAG": "submit/2026-10-01T10-00-00Z-abc1234", "USERNAME": owner,
            "OWNER": owner, "ASSIGNMENT_TYPE": "individual",
            "COMMIT_URL": f"https://github.com/org/nn-fall-activations-{owner}/commit/x",
            "RELEASE_URL": "https://github.com/org/r/releases/tag/submit%2Fx",
            "GITHUB_OUTPUT": str(output), "GITHUB_ACTOR": owner, "GITHUB_ACTOR_ID": "77",
            "RUNNER_TEMP": str(tmp_path)}


def contract_problems(doc: dict, classroom: str, assignment: str, owner: str) -> list[str]:
    """What Classroom 50's collector would reject (its documented result/v1 rules)."""
    problems = []
    required = {"schema", "classroom", "assignment", "assignment_type", "owner", "submission",
                "commit", "release", "review", "datetime", "score", "max-score", "tests"}
    allowed = required | {"graded_at", "submitted_by"}
    problems += [f"missing {k}" for k in sorted(required - set(doc))]
    problems += [f"unknown top-level field {k}" for k in sorted(set(doc) - allowed)]
    if doc.get("schema") != "classroom50/result/v1":
        problems.append("schema")
    if (doc.get("classroom"), doc.get("assignment")) != (classroom, assignment):
        problems.append("identity")
    if str(doc.get("owner", "")).lower() != owner.lower():
        problems.append("owner")
    if not str(doc.get("submission", "")).startswith("submit/"):
        problems.append("submission")
    for key in ("datetime", "graded_at"):
        if key in doc and not STAMP.match(doc[key]):
            problems.append(key)
    for where, item in [("", doc), *((f"tests[{i}].", t) for i, t in
                                     enumerate(doc.get("tests", [])))]:
        score, top = item.get("score"), item.get("max-score")
        if not all(type(v) is int and v >= 0 for v in (score, top)) or score > top:
            problems.append(f"{where}score")
        if where and (not isinstance(item.get("test-name"), str) or not item["test-name"]
                      or type(item.get("passed")) is not bool):
            problems.append(f"{where}fields")
    return problems
