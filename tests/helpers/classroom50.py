"""A student's repository and the environment Classroom 50's runner gives a grading job."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


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
