"""The grading runner's records (record.json and per-assignment results.json, as `grade ci`
writes them), as folders or artifact zips, for tests of `grade collect` (imported by tests,
not a test)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

A, B, C = "a" * 40, "b" * 40, "c" * 40


def record_files(student: str, sha: str, requested: str, graded: str, scores: dict[str, float],
                 outcome: str = "success", run_id: int = 1, broken: str = ""
                 ) -> dict[str, bytes]:
    files = {"record.json": json.dumps({
        "schema": "nn-grader/record/v1", "repository": f"org/{student}", "sha": sha,
        "student": student, "requested_at": requested, "graded_at": graded,
        "outcome": outcome, "run_id": str(run_id)}).encode()}
    for assignment, score in scores.items():
        status = "grader error" if assignment == broken else "passed"
        files[f"{student}/{assignment}/results.json"] = json.dumps({
            "score": score, "max_score": 100, "tests": [{"extra_data": {"status": status}}]
        }).encode()
    return files


def as_folder(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def as_zip(path: Path, files: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path
