"""`grade feedback OUT --format moodle|canvas|folder` (issue 29): each student's feedback pages
packed for the LMS, names escaped, a student without an LMS id listed, never a stop."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.core.results import FAILED, PASSED, RunResult, SubmissionResult, TestResult
from grader.report import write_reports

GRADE = [sys.executable, "-m", "grader.cli"]
HINT = "sigmoid(x) = 1 / (1 + exp(-x)); check the sign in the exponent."


def _result(student: str, passed: bool) -> SubmissionResult:
    test = TestResult("test_sigmoid__values", "sigmoid: values", PASSED if passed else FAILED,
                      4 if passed else 0, 4, "" if passed else f"wrong\nHint: {HINT}")
    return SubmissionResult(student, "activations", f"/s/{student}/activations.ipynb", (test,))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    run = RunResult((_result("bob", False), _result("carol, jr.", True), _result("dave", True)))
    write_reports(run, tmp_path / "out")
    (tmp_path / "roster.csv").write_text(
        "student,name,lms_id\nbob,Bob_Smith,1001\n"
        '"carol, jr.","Carol <b>O\'Neil</b>/../x",1002\ndave,Dave,\n')
    return tmp_path / "out"


def pack(out: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, "feedback", str(out), "--format", fmt, "--roster",
                           str(out.parent / "roster.csv")], capture_output=True, text=True,
                          timeout=60)


def test_moodle_zip_has_a_folder_per_participant(out: Path) -> None:
    done = pack(out, "moodle")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out / "feedback-moodle.zip") as archive:
        names = sorted(archive.namelist())
        bob = archive.read("Bob Smith_1001_assignsubmission_file_/activations-feedback.html")
    assert names == ["Bob Smith_1001_assignsubmission_file_/activations-feedback.html",
                     "Carol b O'Neil b .. x_1002_assignsubmission_file_/"
                     "activations-feedback.html"]
    assert all(name.count("/") == 1 and ".." not in name.split("/")[1] for name in names)
    assert HINT.encode() in bob  # the page as grade wrote it: the engine's cause line
    assert "left out: dave: no lms_id in the roster (--roster)" in done.stdout


def test_canvas_zip_has_one_file_per_submission(out: Path) -> None:
    done = pack(out, "canvas")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out / "feedback-canvas.zip") as archive:
        assert sorted(archive.namelist()) == [
            "Bob Smith_1001_activations-feedback.html",
            "Carol b O'Neil b .. x_1002_activations-feedback.html"]


def test_folder_format_keeps_every_student(out: Path) -> None:
    done = pack(out, "folder")
    assert done.returncode == 0, done.stderr
    folder = out / "feedback"
    assert (folder / "dave" / "activations.html").is_file()
    assert (folder / "bob" / "activations.md").read_text().count("sigmoid") >= 1
    assert len(list(folder.glob("*/*"))) == 6


def test_not_a_grade_output_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([*GRADE, "feedback", str(tmp_path), "--format", "folder"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("grade:")]
    assert "grades.csv: cannot be read" in line
