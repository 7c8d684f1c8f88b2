"""Student files are read once, by descriptor, and what was read is what is graded.

A hard link to the course's reference notebook, or a byte copy of it, in a student folder is
never graded as the student's; a folder swapped for a link to ``solutions/`` between discovery
and grading cannot make the reference be graded (the bytes read at discovery are graded and
hashed), and a rerun from the cache after the folder is put back keeps the honest score.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import grader.run.grading as grading
from grader.core.course import load_course
from grader.core.settings import Limits, Settings
from grader.run.cache import ResultCache
from grader.run.discover import course_files, discover
from grader.run.grading import Resume, close_sandboxes, grade_folder

ROOT = Path(__file__).resolve().parents[2]
COURSE = load_course(ROOT)
REFERENCE = ROOT / "solutions" / "activations.ipynb"
STUB = ROOT / "assignments" / "activations" / "activations.ipynb"
LIMITS = Limits(memory_mb=512, processes=64, test_timeout_s=2, submission_timeout_s=40,
                load_timeout_s=8, output_bytes=64 * 1024, file_size_mb=16)


@pytest.fixture(autouse=True, scope="module")
def fresh_sandboxes():
    close_sandboxes()
    yield
    close_sandboxes()


def _reason(found, name: str) -> str:
    return next(u.reason for u in found.unrecognized if u.path.name == name)


def test_a_hard_link_is_never_graded(tmp_path: Path) -> None:
    course_copy = tmp_path / "reference.ipynb"  # (a hard link needs one file system)
    shutil.copy(REFERENCE, course_copy)
    student = tmp_path / "subs" / "mallory"
    student.mkdir(parents=True)
    os.link(course_copy, student / "activations.ipynb")
    found = discover(tmp_path / "subs", COURSE.assignments, course=course_files(ROOT))
    assert found.submissions == ()
    assert "2 hard links" in _reason(found, "activations.ipynb")
    assert found.students == ("mallory",)


def test_a_copy_of_a_course_file_is_never_graded(tmp_path: Path) -> None:
    student = tmp_path / "subs" / "mallory" / "deep"
    student.mkdir(parents=True)
    shutil.copy(REFERENCE, student / "activations.ipynb")
    shutil.copy(ROOT / "solutions" / "hidden" / "test_activations.py", student / "activations.py")
    found = discover(tmp_path / "subs", COURSE.assignments, course=course_files(ROOT))
    assert found.submissions == ()
    assert "solutions/activations.ipynb" in _reason(found, "activations.ipynb")
    assert "solutions/hidden/test_activations.py" in _reason(found, "activations.py")


def test_a_link_anywhere_in_the_path_is_not_followed(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "mallory").mkdir(parents=True)
    os.symlink(ROOT / "solutions", subs / "mallory" / "hw")
    found = discover(subs, COURSE.assignments, course=course_files(ROOT))
    assert found.submissions == ()
    assert "symbolic link" in _reason(found, "hw")


def _settings() -> Settings:
    return Settings(course_root=ROOT, limits=LIMITS, sandbox="process", secret="once", jobs=1)


def test_a_folder_swapped_after_discovery_grades_what_was_read(tmp_path: Path,
                                                               monkeypatch) -> None:
    subs = tmp_path / "subs"
    (subs / "mallory" / "hw").mkdir(parents=True)
    shutil.copy(STUB, subs / "mallory" / "hw" / "activations.ipynb")
    real_discover = grading.discover

    def discover_then_swap(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        (subs / "mallory" / "hw").rename(tmp_path / "kept")
        os.symlink(ROOT / "solutions", subs / "mallory" / "hw")  # holds activations.ipynb
        return found

    monkeypatch.setattr(grading, "discover", discover_then_swap)
    out = tmp_path / "out"
    out.mkdir()
    run = grade_folder(subs, COURSE, _settings(), only=("activations",),
                       resume=Resume(ResultCache(out)))
    swapped = next(r for r in run.results if r.student == "mallory")
    assert swapped.path == str(subs / "mallory" / "hw" / "activations.ipynb")
    assert swapped.score == 0 and not swapped.grader_error, swapped.error

    # the folder put back: the cached result (keyed by the bytes read) is the stub's 0
    monkeypatch.setattr(grading, "discover", real_discover)
    (subs / "mallory" / "hw").unlink()
    (tmp_path / "kept").rename(subs / "mallory" / "hw")
    again = grade_folder(subs, COURSE, _settings(), only=("activations",),
                         resume=Resume(ResultCache(out)))
    assert next(r for r in again.results if r.student == "mallory").score == 0
