"""One submission never stops the class run (issue 22): the crashes a red team found, each
beside honest students, through the real ``grade`` command; and the containment boundary that
turns whatever else fails for one submission into that submission's row.

The class: two honest copies of the demo's ``alice`` (activations and backprop), and
- ``surr``: relu raises ``RuntimeError("\\udc80 ...")`` (a lone surrogate in a message),
- ``m_bad\\xffname``: a folder name that is not UTF-8 (as a zip made on Windows can hold),
- ``fileb``: ``activations\\xfe.ipynb``, a file name that is not UTF-8,
- ``curve``: ``train`` returns losses ``[-1e308, -1.79e308, 1.0, ...]`` (drawn in feedback).
Each of these ended the whole run before (exit 1, no grades.csv, and a poisoned cache entry
that ended every rerun the same way).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import RunResult, SubmissionResult, TestResult
from grader.core.settings import Settings
from grader.core.text import display_name
from grader.report import write as report_write
from grader.report import write_reports
from grader.run.cache import ResultCache
from grader.run.grading import Resume, grade_folder

ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice"
GRADE = [sys.executable, "-m", "grader.cli.main"]
BAD_FOLDER = b"m_bad\xffname"
BAD_FILE = b"activations\xfe.ipynb"


def _with_cell(source: Path, target: Path, code: str) -> None:
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(notebook, target)


def make_class(root: Path) -> Path:
    for name in ("honest1", "honest2"):
        (root / name).mkdir(parents=True)
        for file in ("activations.ipynb", "backprop.ipynb"):
            shutil.copy(ALICE / file, root / name / file)
    (root / "surr").mkdir()
    _with_cell(ALICE / "activations.ipynb", root / "surr" / "activations.ipynb",
               'def relu(x):\n    raise RuntimeError("\\udc80 boom \\ud800")\n')
    bad = os.path.join(os.fsencode(root), BAD_FOLDER)
    os.mkdir(bad)
    shutil.copy(ALICE / "activations.ipynb", os.fsdecode(os.path.join(bad, b"activations.ipynb")))
    (root / "fileb").mkdir()
    shutil.copy(ALICE / "activations.ipynb",
                os.fsdecode(os.path.join(os.fsencode(root / "fileb"), BAD_FILE)))
    (root / "curve").mkdir()
    _with_cell(ALICE / "backprop.ipynb", root / "curve" / "backprop.ipynb",
               "def train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.01, epochs=100, seed=0):\n"
               "    params = init_params(layer_sizes, seed)\n"
               "    return params, [-1e308, -1.79e308, 1.0] + [0.5] * (epochs - 3)\n")
    return root


def grade(submissions: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, str(submissions), "--out", str(out), "--assignment",
                           "activations", "--assignment", "backprop", "--quiet"],
                          capture_output=True, text=True, timeout=900, check=False)


def rows(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(handle)}


Graded = tuple[Path, subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The class graded once, then again on the same --out (the rerun)."""
    base = tmp_path_factory.mktemp("containment")
    submissions = make_class(base / "submissions")
    out = base / "out"
    first = grade(submissions, out)
    shutil.copy(out / "grades.csv", base / "first.csv")
    again = grade(submissions, out)
    return out, first, again


@pytest.mark.slow  # a class of six graded twice through the real CLI
class TestCrashesBesideHonestStudents:
    """Each crash of issue 22 in one class run: exit 0, every row, honest students 100, and
    a rerun that reads every result back from the cache."""

    def test_the_run_finishes_with_every_row(self, graded: Graded) -> None:
        out, first, _ = graded
        assert first.returncode == 0, first.stdout + first.stderr
        bad_student = display_name(os.fsdecode(BAD_FOLDER))
        students = {"honest1", "honest2", "surr", "fileb", "curve", bad_student}
        assert set(rows(out)) == {(s, a) for s in students for a in ("activations", "backprop")}
        assert "\ufffd" in bad_student and bad_student.startswith("m_bad")
        for path in out.rglob("*"):  # every name and every report is valid UTF-8
            path.name.encode("utf-8")
            if path.is_file() and path.suffix in (".csv", ".json", ".md", ".html"):
                path.read_bytes().decode("utf-8")

    def test_honest_students_score_100(self, graded: Graded) -> None:
        out, _, _ = graded
        table = rows(out)
        for student in ("honest1", "honest2"):
            for assignment in ("activations", "backprop"):
                assert table[student, assignment]["score"] == "100", table[student, assignment]
        bad_student = display_name(os.fsdecode(BAD_FOLDER))
        assert table[bad_student, "activations"]["score"] == "100"
        assert table["fileb", "activations"]["score"] == "100"
        assert "activations\ufffd" in table["fileb", "activations"]["file"]

    def test_the_offenders_are_graded_with_their_own_failures(self, graded: Graded) -> None:
        out, _, _ = graded
        table = rows(out)
        surr = table["surr", "activations"]
        assert surr["status"] == "graded" and 0 < float(surr["score"]) < 100
        document = json.loads((out / "surr" / "activations" / "results.json")
                              .read_text(encoding="utf-8"))
        messages = " ".join(t.get("output", "") for t in document["tests"])
        assert "RuntimeError: \ufffd boom \ufffd" in messages
        curve = table["curve", "backprop"]
        assert curve["status"] == "graded" and 0 < float(curve["score"]) < 100
        feedback = (out / "curve" / "backprop" / "feedback.html").read_text(encoding="utf-8")
        assert "data:image/svg+xml;base64," in feedback

    def test_a_rerun_reads_every_result_from_the_cache(self, graded: Graded) -> None:
        out, first, again = graded
        assert again.returncode == 0, again.stdout + again.stderr
        assert "notebooks graded 0, reused 8 from cache" in again.stdout, again.stdout
        assert (out / "grades.csv").read_bytes() == (out.parent / "first.csv").read_bytes()
        assert len(ResultCache(out).entries()) == 8


# ---------------------------------------------------------------- the containment boundary

def _result(student: str, score: float = 1.0) -> SubmissionResult:
    test = TestResult("test_x", "x", "passed", score, 1.0)
    return SubmissionResult(student, "activations", f"{student}/activations.ipynb",
                            tests=(test,), max_score=1.0)


def test_a_report_that_cannot_be_written_is_that_submissions_error_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = report_write._write_submission

    def failing(result: SubmissionResult, *args, **kwargs):  # type: ignore[no-untyped-def]
        if result.student == "bad" and not result.grader_error:
            raise OverflowError("cannot convert float infinity to integer \udc80")
        return real(result, *args, **kwargs)

    monkeypatch.setattr(report_write, "_write_submission", failing)
    run = RunResult(results=(_result("a"), _result("bad"), _result("z")))
    paths = write_reports(run, tmp_path)
    table = rows(tmp_path)
    assert [table[s, "activations"]["status"] for s in ("a", "bad", "z")] == \
        ["graded", "error", "graded"]
    assert "OverflowError: cannot convert float infinity" in table["bad", "activations"]["error"]
    assert paths.run is not None and [r.grader_error for r in paths.run.results] == \
        [False, True, False]
    assert (tmp_path / "bad" / "activations" / "feedback.html").is_file()
    assert "bad" in (tmp_path / "gradebook.csv").read_text(encoding="utf-8")


def test_a_failure_reading_one_cache_entry_is_that_submissions_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    submissions = tmp_path / "submissions"
    for name in ("a", "b"):
        (submissions / name).mkdir(parents=True)
        shutil.copy(ALICE / "activations.ipynb", submissions / name / "activations.ipynb")
    course = load_course(DEFAULT_ROOT)
    settings = Settings(course_root=course.root, sandbox="inprocess", jobs=1)
    cache = ResultCache(tmp_path / "out")
    real_get = ResultCache.get

    def get(self: ResultCache, job, key):  # type: ignore[no-untyped-def]
        if job.student == "b":
            raise RuntimeError("a cache that breaks")
        return real_get(self, job, key)

    monkeypatch.setattr(ResultCache, "get", get)
    run = grade_folder(submissions, course, settings, ["activations"],
                       resume=Resume(cache))
    by_student = {r.student: r for r in run.results}
    assert by_student["a"].score == 100 and not by_student["a"].grader_error
    assert by_student["b"].grader_error
    assert "RuntimeError: a cache that breaks" in (by_student["b"].error or "")


def test_a_result_that_cannot_be_stored_is_not_cached(tmp_path: Path) -> None:
    course = load_course(DEFAULT_ROOT)
    from grader.submission.grade import Job

    job = Job("s", course.get("activations"), tmp_path / "a.ipynb")
    cache = ResultCache(tmp_path)
    poisoned = replace(_result("s"), output="lone \udc80 surrogate")
    assert cache.put(job, "k", poisoned) is None
    assert cache.entries() == []
    assert cache.put(job, "k", _result("s")) is not None
    assert cache.get(job, "k") is not None
