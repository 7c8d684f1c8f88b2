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


def moodle_import(path: str) -> tuple[int, str, str, str] | None:
    """Moodle's importer on one zip entry (mod/assign/feedback/file/importziplib.php,
    ``is_valid_filename_for_import``): (participant id, plugin type, plugin name, the file's
    name), or None where Moodle would skip the file. Each path part is split at ``_`` into at
    most five pieces; the first with four or more and a numeric second piece names the
    participant and the plugin, and the rest of the path is the file."""
    parts = path.split("/")
    if parts[-1].startswith((".", "~")):
        return None
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) < 4 or not info[1].isdigit():
            continue
        rest = "/".join([info[4] if len(info) == 5 else "", *parts])
        return int(info[1]), info[2], info[3], rest.lstrip("/")
    return None


def test_moodle_import_finds_each_participant_and_file(out: Path) -> None:
    done = pack(out, "moodle")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out / "feedback-moodle.zip") as archive:
        found = sorted(moodle_import(name) for name in archive.namelist())
    assert found == [(1001, "assignsubmission", "file", "activations-feedback.html"),
                     (1002, "assignsubmission", "file", "activations-feedback.html")]


def test_a_name_with_underscores_would_break_moodles_split() -> None:
    """Why names lose their ``_``: Moodle would read 'Smith' as the participant id."""
    assert moodle_import("Bob_Smith_1001_assignsubmission_file_/a.html") is None
    assert moodle_import("Bob Smith_1001_assignsubmission_file_/a.html") == (
        1001, "assignsubmission", "file", "a.html")
    assert moodle_import("Bob Smith_1001_assignsubmission_file/a.html") == (  # Moodle >= 4.1
        1001, "assignsubmission", "file", "a.html")


def test_moodle_needs_a_numeric_participant_id(out: Path) -> None:
    (out.parent / "roster.csv").write_text("student,name,lms_id\nbob,Bob,u-1001\n"
                                           "dave,Dave,1004\n")
    done = pack(out, "moodle")
    assert done.returncode == 0, done.stderr
    assert ("left out: bob: lms_id 'u-1001' is not a Moodle participant id (a number, as in "
            "the download's folder names)") in done.stdout
    with zipfile.ZipFile(out / "feedback-moodle.zip") as archive:
        assert [moodle_import(n)[0] for n in archive.namelist()] == [1004]  # type: ignore[index]


def test_the_ids_the_grading_found_are_used_without_a_roster(tmp_path: Path) -> None:
    """A class graded from Moodle's download keeps each folder's participant id
    (gradebook.csv's lms_id): no roster is needed to pack the feedback."""
    from grader.core.results import StudentInfo

    run = RunResult((_result("bob", False), _result("erin", True)),
                    students=(StudentInfo("bob", lms_id="2001", name="Bob Smith"),
                              StudentInfo("erin", lms_id="", name="Erin")))
    write_reports(run, tmp_path / "out")
    done = subprocess.run([*GRADE, "feedback", str(tmp_path / "out"), "--format", "moodle"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "out" / "feedback-moodle.zip") as archive:
        assert archive.namelist() == [
            "Bob Smith_2001_assignsubmission_file_/activations-feedback.html"]
    assert "left out: erin: no lms_id in the roster (--roster)" in done.stdout
