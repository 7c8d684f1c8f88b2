"""One late submission graded through `grade` (the CLI, with --times), `gradescope-run` (its
submission_metadata.json) and `classroom50 grade` (the commit's committer date): the same
final score and the same late line in every output; overrides and extensions on `grade`.

The course is a copy of this repository's `activations` assignment with a due date and a
`[late]` policy; the notebook is the reference with a relu bug (it loses some points).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.course_copy import activations_course
from helpers.gradescope_schema import schema_problems

import grader
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import read_secret
from grader.integrations.gradescope.autograde import autograde as gradescope_run
from grader.integrations.gradescope.bundle import course_entries
from grader.integrations.gradescope.config import CONFIG_NAME, AutograderConfig

pytestmark = pytest.mark.slow  # students graded through the CLI, Gradescope and Classroom 50 paths

GRADE = [sys.executable, "-m", "grader.cli"]
DUE = "2026-10-05T23:59:00+02:00"
LATE = "2026-10-07T02:59:00+02:00"  # 1 day 3 h after the due date
LINE = "handed in 1 day 3 h after the due date: -10%, 1 grace day used, 2 left"
POLICY = ("[late]\npenalty_per_day = 10\nmax_penalty = 30\nmax_days = 7\ngrace_days = 3\n"
          "grace_days_per_assignment = 1\n")
BUG = ("return np.maximum(0, x)", "return x")


@pytest.fixture(scope="module")
def course_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return activations_course(tmp_path_factory.mktemp("course"), DUE, POLICY)


def notebook() -> str:
    text = (DEFAULT_ROOT / "solutions" / "activations.ipynb").read_text()
    assert BUG[0] in text
    return text.replace(*BUG)


@pytest.fixture(scope="module")
def via_grade(course_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("grade")
    (base / "subs" / "alice").mkdir(parents=True)
    (base / "subs" / "alice" / "activations.ipynb").write_text(notebook())
    (base / "times.csv").write_text(f"student,assignment,submitted_at\nalice,activations,{LATE}\n")
    done = subprocess.run([*GRADE, str(base / "subs"), "--out", str(base / "out"), "--course",
                           str(course_root), "--times", str(base / "times.csv"), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    with (base / "out" / "grades.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    row["feedback"] = (base / "out" / "alice" / "activations" / "feedback.md").read_text()
    row["results"] = (base / "out" / "alice" / "activations" / "results.json").read_text()
    row["gradebook"] = (base / "out" / "gradebook.csv").read_text()
    row["out"] = str(base / "out")
    return row


def test_grade_writes_the_grade_of_record_everywhere(via_grade: dict[str, str]) -> None:
    raw = float(via_grade["raw_score"])
    assert 0 < raw < 100
    final = round(raw * 0.9, 6)
    assert float(via_grade["final_score"]) == pytest.approx(final)
    assert float(via_grade["score"]) == float(via_grade["final_score"])
    assert float(via_grade["late_penalty"]) == pytest.approx(raw - final)
    assert via_grade["late"] == LINE and via_grade["grace_days_used"] == "1"
    assert via_grade["submitted_at"] == LATE and via_grade["due"] == DUE
    assert f"- {LINE}" in via_grade["feedback"]
    document = json.loads(via_grade["results"])
    assert document["score"] == pytest.approx(final)
    assert document["extra_data"]["late"] == LINE
    assert document["extra_data"]["raw_score"] == pytest.approx(raw)
    assert f"activations: {LINE}" in via_grade["gradebook"]


def test_a_rerun_without_times_keeps_the_original_time(via_grade: dict[str, str],
                                                       course_root: Path) -> None:
    out = Path(via_grade["out"])
    subs = out.parent / "subs"
    done = subprocess.run([*GRADE, str(subs), "--out", str(out), "--course", str(course_root),
                           "-q"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with (out / "grades.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["submitted_at"] == LATE and row["final_score"] == via_grade["final_score"]


def test_overrides_and_extensions_on_grade(via_grade: dict[str, str], course_root: Path
                                           ) -> None:
    out = Path(via_grade["out"])
    subs, extra = out.parent / "subs", out.parent / "extra"
    extra.mkdir()
    (extra / "ext.csv").write_text("student,assignment,due,reason\nalice,activations,+2,flu\n")
    (extra / "ov.csv").write_text("student,assignment,points,reason,who\n"
                                  "alice,activations,95,regrade request 12,Dr. Smith\n")
    done = subprocess.run([*GRADE, str(subs), "--out", str(extra / "out"), "--course",
                           str(course_root), "--times", str(out.parent / "times.csv"),
                           "--extensions", str(extra / "ext.csv"), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with (extra / "out" / "grades.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["final_score"] == row["raw_score"] and row["late_penalty"] == "0"
    assert row["late"] == ("handed in on time (your extended due date 2026-10-07 23:59 "
                           "+02:00: flu)")
    done = subprocess.run([*GRADE, str(subs), "--out", str(extra / "out"), "--course",
                           str(course_root), "--overrides", str(extra / "ov.csv"), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with (extra / "out" / "grades.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["score"], row["final_score"]) == ("95", "95")
    assert row["override"] == "score set to 95 by Dr. Smith: regrade request 12"
    feedback = (extra / "out" / "alice" / "activations" / "feedback.md").read_text()
    assert "- score set to 95 by Dr. Smith: regrade request 12" in feedback
    assert "**Score:** 95 / 100 (autograde " in feedback


def test_bad_times_file_is_one_line_naming_file_and_line(course_root: Path,
                                                         tmp_path: Path) -> None:
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "times.csv").write_text("student,assignment,submitted_at\n"
                                        "alice,activations,last tuesday\n")
    done = subprocess.run([*GRADE, str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                           "--course", str(course_root), "--times",
                           str(tmp_path / "times.csv")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"{tmp_path / 'times.csv'}: line 2: submitted_at: 'last tuesday' is not an ISO" \
        in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_gradescope_gives_the_same_final_and_line(course_root: Path, via_grade: dict[str, str],
                                                  tmp_path: Path) -> None:
    course = load_course(course_root)
    root = tmp_path / "autograder"
    # the course's grace ledger (grades.csv of `grade`) ships in the private zip
    ledger = course_root / "grace-ledger.csv"
    shutil.copyfile(Path(via_grade["out"]) / "grades.csv", ledger)
    try:
        entries = course_entries(course, course.assignments, read_secret(course.secret_file))
    finally:
        ledger.unlink()
    assert "course/grace-ledger.csv" in entries
    for name, entry in entries.items():
        target = root / "source" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry.data)
    config = AutograderConfig(assignments=("activations",), grader_version=grader.__version__,
                              test_visibility="visible")
    (root / "source" / CONFIG_NAME).write_text(config.to_json())
    (root / "submission").mkdir()
    (root / "submission" / "activations.ipynb").write_text(notebook())
    (root / "submission_metadata.json").write_text(json.dumps({
        "created_at": LATE, "assignment": {"due_date": DUE, "late_due_date": None},
        "users": [{"email": "alice", "id": 1, "assignment": {"due_date": DUE}}],
        "previous_submissions": []}))
    outcome = gradescope_run(root, env={}, echo=lambda line: None)
    assert schema_problems(outcome.results_json.read_text()) == []
    document = outcome.document
    assert document["score"] == pytest.approx(float(via_grade["final_score"]))
    extra = document["extra_data"]["assignments"]["activations"]
    assert extra["late"] == LINE
    visible = [t["output"] for t in document["tests"] if t["name"].endswith("your notebook")]
    assert "Handed in 1 day 3 h after the due date: \\-10%, 1 grace day used, 2 left." \
        in visible[0]


def test_an_extension_on_gradescope_is_the_students_due_date(course_root: Path,
                                                            tmp_path: Path) -> None:
    from grader.core.grade_record import load_deadlines
    from grader.integrations.gradescope.metadata import read_metadata, with_metadata
    path = tmp_path / "meta.json"
    own = {"due_date": "2026-10-08T23:59:00+02:00"}
    path.write_text(json.dumps({"created_at": LATE, "assignment": {"due_date": DUE},
                                "users": [{"assignment": own}]}))
    deadlines = with_metadata(load_deadlines(load_course(course_root)), read_metadata(path),
                              "alice", ["activations"])
    extension = deadlines.extensions[("alice", "activations")]
    assert extension.due == dt.datetime.fromisoformat("2026-10-08T23:59:00+02:00")
    assert deadlines.times[("alice", "activations")] == dt.datetime.fromisoformat(LATE)


def test_classroom50_gives_the_same_final_and_line(course_root: Path, via_grade: dict[str, str],
                                                   tmp_path: Path) -> None:
    checkout = tmp_path / "alice-repo"
    checkout.mkdir()
    (checkout / "activations.ipynb").write_text(notebook())
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x",
               "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x",
               "GIT_AUTHOR_DATE": "2026-10-01T10:00:00+02:00",  # the student's: not used
               "GIT_COMMITTER_DATE": LATE}
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "hw"]):
        subprocess.run(["git", "-C", str(checkout), *command], check=True, env=git_env)
    env = {"CLASSROOM": "nn-fall", "ASSIGNMENT": "activations", "OWNER": "alice",
           "SUBMISSION_TAG": "submit/2026-10-07T00-59-00Z-abc",
           "COMMIT_URL": "https://github.com/o/r/commit/x",
           "RELEASE_URL": "https://github.com/o/r/releases/tag/x"}
    done = subprocess.run([*GRADE, "classroom50", "grade", str(checkout), "--assignment",
                           "activations", "--out", str(tmp_path / "out"), "--course",
                           str(course_root), "--grace-ledger",
                           str(Path(via_grade["out"]) / "grades.csv")],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr + done.stdout
    document = json.loads((checkout / "result.json").read_text())
    [deadline] = [t for t in document["tests"] if t["status"] == "deadline"]
    assert deadline["message"] == LINE
    final = float(via_grade["final_score"])
    points = sum(t["points"] for t in document["tests"])
    assert points == pytest.approx(final)
    assert document["score"] == round(final)  # scale 1: whole points
    assert document["datetime"] == "2026-10-07T00:59:00Z"
    with (tmp_path / "out" / "grades.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["final_score"], row["late"]) == (via_grade["final_score"], LINE)
