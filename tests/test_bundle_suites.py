"""Gradescope's zip and Classroom 50's bundle ship one list of suite files: the hidden suite with
every course file it imports and pytest.ini (grader.suite.files.suite_entries, the files the
suite hash covers), so a suite that imports a helper grades the same from either bundle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.commands.classroom50 import BuildRequest, build
from grader.core.course import DEFAULT_ROOT, Course, load_course
from grader.integrations.gradescope.bundle import course_entries

HELPERS = {"bundle_nets/__init__.py": "from .sizes import SCALE\n",
           "bundle_nets/sizes.py": "SCALE = 1.0\n",
           "bundle_tolerance.py": "from bundle_nets import SCALE\nRTOL = 1e-5 * SCALE\n"}
SHIPPED = {"solutions/hidden/pytest.ini", "solutions/hidden/test_forward.py",
           *(f"solutions/hidden/{name}" for name in HELPERS),
           "solutions/hidden/budgets.json"}  # the reference's time per test (grader.suite.budgets)


@pytest.fixture
def course(tmp_path: Path) -> Course:
    """The course with forward's suite importing a helper module that imports a package."""
    root = tmp_path / "course"
    for part in ("assignments", "solutions"):
        shutil.copytree(DEFAULT_ROOT / part, root / part)
    hidden = root / "solutions" / "hidden"
    for name, text in HELPERS.items():
        (hidden / name).parent.mkdir(exist_ok=True)
        (hidden / name).write_text(text)
    (hidden / "unrelated_notes.py").write_text("NOT_IMPORTED = True\n")
    suite = hidden / "test_forward.py"
    suite.write_text(suite.read_text() + "\n\nimport bundle_tolerance  # noqa: E402\n\n"
                     "assert bundle_tolerance.RTOL == 1e-5\n")
    return load_course(root)


SCORE = """
import sys
from pathlib import Path
from grader.core.course import load_course
from grader.submission.grade import Job, grade_job
from grader.sandbox.inprocess import InProcessSandbox
from grader.core.settings import Settings
root, reference = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings(course_root=root, secret="bundle-test")
job = Job("alice", load_course(root).get("forward"), reference)
print(grade_job(job, settings, InProcessSandbox()).score)
"""


def reference_score(course_root: Path, reference: Path) -> float:
    """Grade the reference against the suite as the bundle ships it (in a process of its own:
    pytest keeps one ``test_forward`` module per process)."""
    run = subprocess.run([sys.executable, "-c", SCORE, str(course_root), str(reference)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return float(run.stdout.split()[-1])


def test_gradescope_ships_the_suite_and_what_it_imports(course: Course, tmp_path: Path) -> None:
    entries = course_entries(course, [course.get("forward")], "s3cret")
    hidden = {name.removeprefix("course/") for name in entries
              if name.startswith("course/solutions/hidden/")}
    assert hidden == SHIPPED  # not the other suites, not a file no suite imports
    unpacked = tmp_path / "gradescope"
    for name, entry in entries.items():
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_bytes(entry.data)
    assert reference_score(unpacked / "course", course.get("forward").reference) == 100


@pytest.mark.slow  # an interpreter imports torch and grades (the quick tier keeps Gradescope's)
def test_classroom50_ships_the_suite_and_what_it_imports(course: Course, tmp_path: Path) -> None:
    (folder,) = build(BuildRequest(classroom_dir=tmp_path / "c50", only=("forward",)), course,
                      echo=lambda _: None)
    shipped = folder / "course"
    hidden = {p.relative_to(shipped).as_posix()
              for p in (shipped / "solutions" / "hidden").rglob("*") if p.is_file()}
    assert hidden == SHIPPED
    assert reference_score(shipped, course.get("forward").reference) == 100
