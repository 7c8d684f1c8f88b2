"""Copies of this course for tests (imported by tests, not a test): the whole course to
scaffold and validate assignments in, with the example ``halve`` an instructor writes after
``grade new`` and ``grade`` run in that course (tests/test_grade_new.py,
tests/test_validate_consistency.py); and a course of one assignment with a due date and a
course.toml of the test's own (tests/test_deadlines_paths.py, tests/test_cooldown_push.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grader.core.course import DEFAULT_ROOT

GRADE = [sys.executable, "-m", "grader.cli"]
#: What grader treats as the course (README's course layout) and what demo/make_demo.py needs.
COURSE_PARTS = ("course.toml", "assignments", "solutions", "tests/mutants", "tests/equivalents",
                "demo/make_demo.py")

HALVE = '''def halve(x):
    """x / 2, element-wise."""
    ### BEGIN SOLUTION
    return x / 2
    ### END SOLUTION
'''
SUITE = '''import pytest

from grader.suite import check_close


@pytest.mark.points(100)
def test_halve__values(student, rng):
    """halve: half of random arrays"""
    for shape in ((), (7,), (2, 5)):
        x = rng.uniform(-9, 9, size=shape)
        check_close(student.halve(x), x / 2, name="halve(x)", inputs={"x": x})
'''
PUBLIC = '''def test_halve_values(student):
    """halve on one value"""
    assert student.halve(3.0) == 1.5
'''
MUTANT = "# mutant: floor division\n# breaks: halve\n\n\ndef halve(x):\n    return x // 2\n"


def grade(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``grade ARGS --course COURSE`` in the course's folder."""
    return subprocess.run([*GRADE, *args, "--course", str(course)], capture_output=True,
                          text=True, timeout=600, check=False, cwd=course)


def copy_course(root: Path) -> Path:
    """This course's :data:`COURSE_PARTS` copied to ``root``."""
    for part in COURSE_PARTS:
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (DEFAULT_ROOT / part).is_dir() else shutil.copy2
        copy(DEFAULT_ROOT / part, root / part)
    return root


def activations_course(root: Path, due: str, course_toml: str) -> Path:
    """``root`` holding the activations assignment (due ``due``), its reference, hidden suite
    and budgets, the course secret, and ``course_toml``."""
    shutil.copytree(DEFAULT_ROOT / "assignments" / "activations",
                    root / "assignments" / "activations")
    meta = root / "assignments" / "activations" / "assignment.toml"
    meta.write_text(f'due = "{due}"\n' + meta.read_text())
    (root / "solutions" / "hidden").mkdir(parents=True)
    for name in ("activations.ipynb", "course_secret", "hidden/test_activations.py",
                 "hidden/pytest.ini", "hidden/budgets.json"):
        shutil.copy(DEFAULT_ROOT / "solutions" / name, root / "solutions" / name)
    (root / "course.toml").write_text(course_toml)
    return root
