"""`grade init DIR [--from PATH]`: a new course that `grade validate` passes as generated, with a
fresh secret that git ignores, and nothing written outside DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.course_config import read_course_config

GRADE = [sys.executable, "-m", "grader.cli"]
ENV = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE", "GRADER_SECRET")}


def grade(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, *args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=600, check=False)


def test_a_new_course_validates_and_keeps_its_secret_out_of_git(tmp_path: Path) -> None:
    made = grade(tmp_path, "init", "ml-101", "--title", 'Deep "learning"')
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ml-101"]
    course = tmp_path / "ml-101"
    config = read_course_config(course / "course.toml")
    assert (config.id, config.title, config.student_torch) == ("ml-101", 'Deep "learning"',
                                                               "cpu")
    secret = (course / "solutions" / "course_secret").read_text().strip()
    assert len(secret) == 64 and secret != (DEFAULT_ROOT / "solutions" / "course_secret"
                                            ).read_text().strip()
    for name in ("grade.yml", "public-checks.yml", "fetch-records.sh", "README.md"):
        assert (course / "push-grading" / name).is_file()
    assert os.access(course / "push-grading" / "fetch-records.sh", os.X_OK)
    checked = grade(course, "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "example            100     0    12/12 (100%)  ok" in checked.stdout
    (course / "out").mkdir()
    (course / "out" / "grades.csv").write_text("student\n")
    subprocess.run(["git", "init", "-q", str(course)], check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=course, capture_output=True, text=True, check=True).stdout
    assert "course_secret" not in status and "out/" not in status
    assert "solutions/hidden/test_example.py" in status and "course.toml" in status


def test_from_an_existing_course_copies_everything_but_the_secret(tmp_path: Path) -> None:
    made = grade(tmp_path, "init", "copy", "--from", str(DEFAULT_ROOT))
    assert made.returncode == 0, made.stderr
    course = load_course(tmp_path / "copy")
    assert [a.id for a in course.assignments] == [a.id for a in load_course().assignments]
    assert course.config.id == "copy" and course.config.title == load_course().config.title
    assert course.secret_file.read_text() != (DEFAULT_ROOT / "solutions" / "course_secret"
                                              ).read_text()
    assert (tmp_path / "copy" / "tests" / "mutants" / "activations").is_dir()
    assert not (tmp_path / "copy" / "demo").exists()


def test_a_folder_in_use_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    refused = grade(tmp_path.parent, "init", str(tmp_path))
    assert refused.returncode == 2
    assert refused.stderr.startswith("grade: error: ") and "not an empty folder" in refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
