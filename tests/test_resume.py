"""Resume: a rerun grades only new or changed submissions; an interrupted run loses nothing.

The interruption tests start ``grade`` as a subprocess, stop it (SIGINT, then SIGKILL) once a
few results are cached, rerun it, and check that every student is graded exactly once.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import Attempt, SubmissionResult, TestResult
from grader.core.settings import Limits, Settings
from grader.extract.stub import strip_markers
from grader.run.cache import CACHE_DIR, ResultCache, cache_key, result_from_dict, result_to_dict
from grader.submission.grade import Job

pytestmark = pytest.mark.slow  # interrupted class runs

REFERENCE = DEFAULT_ROOT / "solutions" / "activations.ipynb"
GRADE = [sys.executable, "-m", "grader.cli"]
STUDENTS = 8


def write_student(root: Path, name: str, note: str = "") -> None:
    nb = nbformat.read(REFERENCE, as_version=4)
    cells = [strip_markers(c.source) for c in nb.cells if c.cell_type == "code"]
    cells.append(f"# {name} {note}")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in cells]), folder / "activations.ipynb")


def write_class(root: Path, count: int = STUDENTS) -> Path:
    for i in range(count):
        write_student(root, f"s{i}")
    return root


def grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADE, str(submissions), "--out", str(out), "--assignment",
                           "activations", "--quiet", *extra],
                          capture_output=True, text=True, timeout=600, check=False)


def counts(run: subprocess.CompletedProcess) -> tuple[int, int]:
    match = re.search(r"graded (\d+), reused (\d+) from cache", run.stdout)
    assert match, run.stdout + run.stderr
    return int(match.group(1)), int(match.group(2))


def rows(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def cached(out: Path) -> int:
    return len(ResultCache(out).entries())


def interrupt_after(submissions: Path, out: Path, entries: int, sig: int,
                    *extra: str, env: dict[str, str] | None = None) -> int:
    """Start grading, send ``sig`` once ``entries`` results are cached; the exit code."""
    process = subprocess.Popen([*GRADE, str(submissions), "--out", str(out), "--assignment",
                                "activations", "--quiet", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    deadline = time.monotonic() + 300
    while cached(out) < entries:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no results were cached in time"
        time.sleep(0.05)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    if sig in (signal.SIGINT, signal.SIGTERM):
        assert "rerun the same command to resume" in stderr, stderr
    return process.returncode


@pytest.mark.parametrize(("sig", "jobs", "code"), [
    (signal.SIGINT, "2", 130),
    (signal.SIGKILL, "1", -signal.SIGKILL),
])
def test_interrupted_run_resumes_and_grades_everyone_exactly_once(
        tmp_path: Path, sig: int, jobs: str, code: int) -> None:
    submissions = write_class(tmp_path / "class")
    out = tmp_path / "out"
    assert interrupt_after(submissions, out, 3, sig, "--jobs", jobs) == code
    kept = cached(out)
    assert 3 <= kept < STUDENTS
    rerun = grade(submissions, out, "--jobs", jobs)
    assert rerun.returncode == 0, rerun.stderr
    assert counts(rerun) == (STUDENTS - kept, kept)
    graded = [(r["student"], r["assignment"]) for r in rows(out)]
    assert sorted(graded) == sorted((f"s{i}", "activations") for i in range(STUDENTS))
    assert {r["score"] for r in rows(out)} == {"100"}
    assert cached(out) == STUDENTS


def processes_with(marker: str) -> list[int]:
    """The processes whose environment carries ``marker`` (what a run started, at any depth)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                pass
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc")
def test_sigterm_ends_a_run_like_ctrl_c_and_leaves_nothing_running(tmp_path: Path) -> None:
    """kill, a cancelled CI job or a scheduler's stop sends SIGTERM: the run keeps what it
    graded, exits as interrupted, and its worker pool (a forkserver and its processes, each
    with a warm zygote) ends with it instead of running on as orphans."""
    submissions = write_class(tmp_path / "class")
    out = tmp_path / "out"
    marker = f"GRADER_SIGTERM_TEST={uuid.uuid4().hex}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    assert interrupt_after(submissions, out, 2, signal.SIGTERM, "--jobs", "2", env=env) == 130
    deadline = time.monotonic() + 60  # a worker may finish the submission it was grading
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(marker) == []
    rerun = grade(submissions, out, "--jobs", "2")
    assert counts(rerun)[0] + counts(rerun)[1] == STUDENTS


def test_late_submission_fixed_file_student_and_force(tmp_path: Path) -> None:
    submissions = write_class(tmp_path / "class", 3)
    out = tmp_path / "out"
    assert counts(grade(submissions, out)) == (3, 0)
    assert counts(grade(submissions, out)) == (0, 3)
    write_student(submissions, "late")  # a late submission costs one grading
    write_student(submissions, "s1", note="fixed a typo")  # a changed file is regraded
    assert counts(grade(submissions, out)) == (2, 2)
    assert len(rows(out)) == 4
    replay = grade(submissions, out, "--student", "s0", "--seed", "7")
    assert counts(replay) == (1, 3)
    assert '"seed": 7' in (out / "s0" / "activations" / "results.json").read_text()
    assert counts(grade(submissions, out, "--force")) == (4, 0)
    unknown = grade(submissions, out, "--student", "nobody")
    assert unknown.returncode == 2 and "nobody" in unknown.stderr


def test_cache_entry_round_trips_through_json() -> None:
    result = SubmissionResult(
        student="s", assignment="forward", path="/x/forward.ipynb", max_score=100,
        tests=(TestResult("test_a", "A", "passed", 5.0, 5.0, "", 3, 0.1),),
        notes=("a note",), seed=9, other_attempts=(Attempt("/x/b.ipynb", 3.0),))
    assert result_from_dict(result_to_dict(result)) == result
    with pytest.raises(ValueError):
        result_from_dict({"student": "s"})


def test_key_follows_the_file_the_suite_and_the_settings(tmp_path: Path) -> None:
    course = load_course()
    assignment = course.get("activations")
    path = tmp_path / "activations.ipynb"
    path.write_text("{}")
    job = Job("s", assignment, path, "file name")
    settings = Settings(course_root=DEFAULT_ROOT, secret="k")
    key = cache_key(job, settings, "bwrap")
    assert key == cache_key(job, settings, "bwrap")
    assert cache_key(job, replace(settings, secret="other"), "bwrap") != key
    assert cache_key(job, replace(settings, limits=Limits(test_timeout_s=1)), "bwrap") != key
    assert cache_key(job, settings, "process") != key
    assert cache_key(replace(job, path=None), settings, "bwrap") is None
    path.write_text("{ }")
    assert cache_key(job, settings, "bwrap") != key


def test_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    assignment = load_course().get("activations")
    job = Job("s", assignment, tmp_path / "a.ipynb")
    cache = ResultCache(tmp_path)
    entry = cache.put(job, "k", SubmissionResult("s", "activations", "old"))
    assert cache.get(job, "k") == SubmissionResult("s", "activations", str(job.path))
    entry.write_text("{not json")
    assert cache.get(job, "k") is None
    assert entry.parent.parent.parent.name == CACHE_DIR
