"""The Gradescope autograder end to end, as Gradescope runs it, in a temporary root.

`grade gradescope` builds the zip; it is unpacked into ROOT/source, run_autograder copied to
ROOT/run_autograder, and setup.sh run (GRADER_GRADESCOPE_ROOT=ROOT) into a fresh virtual
environment: pinned torch from pip's default index (here a local CPU wheel), the grader's
pinned dependencies, and the grader from the zip's own source. Then run_autograder grades a
correct (a zip), a buggy and a broken submission of the demo class: every results.json
validates against Gradescope's documented fields and gives every test the score, status and
seed that `grade` (one run over the same files, same student ids) gives. At the process level
a student file cannot read the course; a grader failure gives a results.json that says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.gradescope_schema import schema_problems

from grader.core.course import DEFAULT_ROOT

pytestmark = pytest.mark.slow  # the Gradescope image built and run

ROOT = DEFAULT_ROOT
DEMO = ROOT / "demo" / "submissions"
CHOSEN = ("activations", "backprop")


def run(command: list[str], env: dict[str, str], timeout: float,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def image() -> Iterator[dict[str, str]]:
    """A built autograder image: the environment to run ROOT/run_autograder with."""
    # The worker's unprivileged uid must reach the virtual environment: a world-traversable
    # folder (pytest's own tmp folders are not).
    base = Path(tempfile.mkdtemp(prefix="gradescope-image-"))
    base.chmod(0o755)
    try:
        root = base / "autograder"
        (root / "source").mkdir(parents=True)
        archive = base / "autograder.zip"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        done = run([sys.executable, "-m", "grader.cli", "gradescope", str(archive),
                    *(arg for a in CHOSEN for arg in ("--assignment", a))], env, 120, ROOT)
        assert done.returncode == 0, done.stderr
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        (root / "run_autograder").chmod(0o755)
        env.update(GRADER_GRADESCOPE_ROOT=str(root), GRADER_TORCH_INDEX="")
        done = run(["bash", str(root / "source" / "setup.sh")], env, 900, root / "source")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "setup.sh: done" in done.stdout
        assert (root / "grader-venv" / "bin" / "grade").is_file()
        yield env
    finally:
        # The image holds a virtual environment with torch (about 26,000 files): removing it
        # takes a minute on a busy disk, and nothing waits for it.
        subprocess.Popen(["rm", "-rf", "--", str(base)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


def submit(env: dict[str, str], files: dict[str, Path | bytes], email: str
           ) -> tuple[dict, str, str]:
    """Put ``files`` in ROOT/submission, run run_autograder; (results, its text, stdout)."""
    root = Path(env["GRADER_GRADESCOPE_ROOT"])
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.read_bytes()
        (root / "submission" / name).write_bytes(data)
    (root / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "users": [{"email": email, "id": 9, "name": "A Student"}]}))
    done = run([str(root / "run_autograder")], env, 600, root)
    assert done.returncode == 0, done.stderr
    text = (root / "results" / "results.json").read_text()
    return json.loads(text), text, done.stdout


SNOOP = """
import numpy as np

def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None

LEAKED = _read({secret!r}) or _read({suite!r})

def relu(x):
    # Correct only while the course's files stay out of the worker's reach.
    return np.maximum(0, x) if LEAKED is None else np.full_like(x, -1.0)
"""


def student_files(root: Path) -> dict[str, dict[str, bytes]]:
    """Per student (an e-mail address): the files they hand in, before any zipping."""
    course = root / "source" / "course" / "solutions"
    snoop = SNOOP.format(secret=str(course / "course_secret"),
                         suite=str(course / "hidden" / "test_activations.py"))
    return {
        "alice@example.edu": {name: (DEMO / "alice" / name).read_bytes()
                              for name in ("activations.ipynb", "backprop.ipynb")},
        "bob@example.edu": {**{name: (DEMO / "bob" / name).read_bytes() for name in
                               ("activations_final.ipynb", "backprop_final.ipynb")},
                            "notes.pdf": (DEMO / "frank" / "notes.pdf").read_bytes()},
        "dave@example.edu": {  # a syntax error in one cell, and a truncated notebook
            "activations.ipynb": (DEMO / "dave" / "activations.ipynb").read_bytes(),
            "backprop.ipynb": (DEMO / "dave" / "backprop.ipynb").read_bytes()[:500]},
        "mallory@example.edu": {"activations.py": snoop.encode()},
    }


@pytest.fixture(scope="module")
def expected(image: dict[str, str], tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, dict[str, dict]]:
    """What one `grade` run writes for every student's files: {student: {assignment: doc}}."""
    work = tmp_path_factory.mktemp("grade")
    files = student_files(Path(image["GRADER_GRADESCOPE_ROOT"]))
    for student, named in files.items():
        (work / "submissions" / student).mkdir(parents=True)
        for name, data in named.items():
            (work / "submissions" / student / name).write_bytes(data)
    done = subprocess.run([sys.executable, "-m", "grader.cli", str(work / "submissions"),
                           "--out", str(work / "out"), "--quiet",
                           *(arg for a in CHOSEN for arg in ("--assignment", a))],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith("GRADER_")})
    assert done.returncode == 0, done.stderr
    return {student: {a: json.loads((work / "out" / student / a / "results.json").read_text())
                      for a in CHOSEN} for student in files}


def assert_same_as_grade(document: dict, expected: dict[str, dict]) -> None:
    for assignment, reference in expected.items():
        ours = {t["extra_data"]["id"]: (t["score"], t["max_score"], t["status"])
                for t in document["tests"]
                if t["extra_data"].get("assignment") == assignment and "id" in t["extra_data"]}
        theirs = {t["extra_data"]["id"]: (t["score"], t["max_score"], t["status"])
                  for t in reference["tests"]}
        assert ours == theirs, assignment
        seed = document["extra_data"]["assignments"][assignment]["seed"]
        assert seed == reference["extra_data"]["seed"]
    assert document["score"] == pytest.approx(sum(r["score"] for r in expected.values()))


def notebook_entry(document: dict, assignment: str) -> dict:
    return next(t for t in document["tests"] if t["extra_data"] == {
        "assignment": assignment, "kind": "notebook"})


def test_correct_submission_uploaded_as_a_zip(image: dict[str, str], expected: dict,
                                              tmp_path: Path) -> None:
    student = "alice@example.edu"
    upload = tmp_path / "alice.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        files = student_files(Path(image["GRADER_GRADESCOPE_ROOT"]))[student]
        for name, data in files.items():
            archive.writestr(f"homework/{name}", data)
        archive.writestr("__MACOSX/homework/._activations.ipynb", b"")
    document, text, stdout = submit(image, {"alice.zip": upload}, "Alice@Example.edu")
    assert schema_problems(text) == []
    assert_same_as_grade(document, expected[student])
    assert document["score"] == 200
    assert document["extra_data"]["student"] == student
    assert document["extra_data"]["grader_version"]
    assert document["extra_data"]["grader_failed"] is False
    assert document["stdout_visibility"] == "hidden"
    hidden = [t for t in document["tests"] if "id" in t["extra_data"]]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden)
    assert all(t["status"] == "passed" for t in document["tests"])
    assert f"Student: {student}" in stdout


def test_buggy_submission_scores_what_grade_gives(image: dict[str, str],
                                                  expected: dict) -> None:
    student = "bob@example.edu"
    files = student_files(Path(image["GRADER_GRADESCOPE_ROOT"]))[student]
    document, text, _ = submit(image, dict(files), student)
    assert schema_problems(text) == []
    assert_same_as_grade(document, expected[student])
    assert 0 < document["score"] < 200
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    # the feedback engine's form (issue 29): the function's cause line in bold where there is
    # one, then what this test found
    assert failed and all(t["output"].startswith(("**", "Result: ")) and "Result: " in t["output"]
                          for t in failed)
    assert "`notes.pdf`: not a notebook or \\.py file" in document["output"]


def test_broken_submission_is_reported_not_crashed(image: dict[str, str],
                                                   expected: dict) -> None:
    student = "dave@example.edu"
    files = student_files(Path(image["GRADER_GRADESCOPE_ROOT"]))[student]
    document, text, _ = submit(image, dict(files), student)
    assert schema_problems(text) == []
    assert_same_as_grade(document, expected[student])
    unreadable = notebook_entry(document, "backprop")
    assert unreadable["status"] == "failed"
    assert "could not be read" in unreadable["output"]
    assert document["extra_data"]["grader_failed"] is False
    assert notebook_entry(document, "activations")["status"] == "passed"


def test_process_level_keeps_the_course_out_of_the_workers_reach(image: dict[str, str],
                                                                  expected: dict) -> None:
    """Where Gradescope's container refuses bubblewrap, student code runs at the process
    level; setup.sh made the course root-only, so the worker's uid cannot read it."""
    root = Path(image["GRADER_GRADESCOPE_ROOT"])
    student = "mallory@example.edu"
    config_file = root / "source" / "autograder.json"
    kept = config_file.read_text()
    config_file.write_text(json.dumps({**json.loads(kept), "sandbox": "process"}))
    try:
        document, text, _ = submit(image, dict(student_files(root)[student]), student)
    finally:
        config_file.write_text(kept)
    assert schema_problems(text) == []
    assert document["extra_data"]["sandbox"].startswith("process")
    relu = [t for t in document["tests"]
            if t["extra_data"].get("id", "").startswith("test_relu__")]
    assert relu and all(t["status"] == "passed" for t in relu)
    assert_same_as_grade(document, expected[student])


def test_grader_failures_write_a_results_json_that_says_so(image: dict[str, str]) -> None:
    root = Path(image["GRADER_GRADESCOPE_ROOT"])
    suite = root / "source" / "course" / "solutions" / "hidden" / "test_backprop.py"
    kept = suite.read_bytes()
    suite.unlink()  # a course file the grader needs is gone: the grader fails, not the student
    try:
        document, text, stdout = submit(image, {"backprop.ipynb": DEMO / "alice" /
                                                "backprop.ipynb"}, "eve@example.edu")
    finally:
        suite.write_bytes(kept)
    assert schema_problems(text) == []
    assert document["extra_data"]["grader_failed"] is True
    assert "test_backprop.py" in document["extra_data"]["error"]
    assert "not your grade" in document["output"]
    assert "Traceback" in stdout
    # The grader cannot even start (no virtual environment): run_autograder's own fallback.
    document, text, stdout = submit({**image, "GRADER_VENV": "/nonexistent"},
                                    {"backprop.ipynb": DEMO / "alice" / "backprop.ipynb"},
                                    "eve@example.edu")
    assert schema_problems(text) == []
    assert document["extra_data"]["grader_failed"] is True
    assert "not your grade" in document["output"]
    assert "did not start" in stdout


def test_bench_measures_run_autograder_on_this_image(image: dict[str, str]) -> None:
    """bench/gradescope.py (README's memory figures) runs; its figures are not asserted."""
    done = run([sys.executable, str(ROOT / "bench" / "gradescope.py"), "--root",
                image["GRADER_GRADESCOPE_ROOT"], "--students", "carol"], image, 600, ROOT)
    assert done.returncode == 0, done.stderr
    assert "carol: score 0, run_autograder" in done.stdout
    assert "largest peak memory:" in done.stdout
