"""A course of one assignment copied from this repository's, with a due date and a
course.toml of the test's own (imported by tests, not a test)."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.core.course import DEFAULT_ROOT


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
