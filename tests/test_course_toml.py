"""course.toml: parsing and checking it, finding the course from the working directory upward,
--course and GRADER_COURSE overriding, course defaults under flags and variables, and the
output folder never graded as a student."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.core.course import (
    DEFAULT_ROOT,
    find_course_root,
    load_course,
    resolve_course_root,
)
from grader.core.course_config import COURSE_FILE, read_course_config
from grader.core.errors import ConfigError
from grader.core.paths import OUTPUT_MARKER
from grader.core.settings import limits_from
from grader.run.discover import discover

GRADE = [sys.executable, "-m", "grader.cli"]
FULL = """
[course]
id = "ml-101"
title = "Machine learning"
grader = ">=0.1,<0.2"

[defaults]
jobs = 3
memory_mb = 1024
device = "auto"
test_visibility = "visible"

[bundle]
torch = "gpu"

[late]
due = 2026-12-01T23:59:00Z
penalty_per_day = 10
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / COURSE_FILE
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_is_read_and_late_is_kept_as_written(tmp_path: Path) -> None:
    config = read_course_config(write(tmp_path, FULL))
    assert (config.id, config.title, config.grader) == ("ml-101", "Machine learning",
                                                        ">=0.1,<0.2")
    assert (config.jobs, config.memory_mb, config.device, config.test_visibility) == (
        3, 1024, "auto", "visible")
    assert config.student_torch == "gpu"
    assert config.late["penalty_per_day"] == 10
    with pytest.raises(TypeError):
        config.late["penalty_per_day"] = 0  # type: ignore[index]


def test_test_visibility_is_deprecated_and_refused_beside_visibility(tmp_path: Path) -> None:
    """[visibility] is the one way to say when students see test details."""
    config = read_course_config(write(tmp_path, FULL))
    assert config.deprecated == (
        f"{tmp_path / COURSE_FILE}: [defaults] test_visibility is deprecated (it sets "
        "Gradescope's builds only): write [visibility] default = \"visible\", which applies on "
        "every path, or pass --test-visibility to grade gradescope",)
    both = FULL + '\n[visibility]\ndefault = "after_due_date"\n'
    with pytest.raises(ConfigError) as caught:
        read_course_config(write(tmp_path, both))
    assert str(caught.value) == (
        f"{tmp_path / COURSE_FILE}: [defaults] test_visibility and [visibility] default both "
        "say when students see test details; keep [visibility] default (test_visibility is "
        "deprecated)")
    modern = FULL.replace('test_visibility = "visible"\n', "") + (
        '\n[visibility]\ndefault = "after_due_date"\n')
    assert read_course_config(write(tmp_path, modern)).deprecated == ()
    assert read_course_config(DEFAULT_ROOT / COURSE_FILE).deprecated == ()  # this course's


def test_every_key_is_optional(tmp_path: Path) -> None:
    config = read_course_config(write(tmp_path, '[course]\nid = "a"\ntitle = "A"\n'))
    assert (config.jobs, config.device, config.student_torch, dict(config.late)) == (
        None, None, "cpu", {})
    folder = tmp_path / "ml-101"
    folder.mkdir()
    config = read_course_config(write(folder, "[validate]\nmutation_score = 80\n"))
    assert (config.id, config.title) == ("ml-101", "ml-101")


@pytest.mark.parametrize(("text", "named"), [
    ('[course]\nid = "a"\ntitle = "A"\n[defaults]\njobz = 2\n', "defaults.jobz"),
    ('[course]\nid = "a"\ntitle = "A"\n[defaults]\njobs = "2"\n', "defaults.jobs"),
    ('[course]\nid = "a"\ntitle = "A"\n[defaults]\njobs = 0\n', "defaults.jobs"),
    ('[course]\nid = "a"\ntitle = "A"\n[defaults]\ndevice = "tpu"\n', "defaults.device"),
    ('[course]\nid = "a"\ntitle = "A"\n[bundle]\ntorch = "rocm"\n', "bundle.torch"),
    ('[course]\nid = "a"\ntitle = "A"\n[deadlines]\n', "'deadlines'"),
    ('[course]\nid = "a b"\ntitle = "A"\n', "course.id"),
    ('[course]\nid = "a"\ntitle = "A"\ngrader = ">=9"\n', "course.grader"),
    ('[course]\nid = "a"\ntitle = "A"\ngrader = "new"\n', "course.grader"),
    ('[course]\nid = "a"\ntitle = "A"\nlate = 3\n', "course.late"),
    ('[course\n', "cannot read"),
])
def test_a_bad_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str,
                                                    named: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_course_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and named in message and "\n" not in message


def test_the_course_is_found_from_the_working_directory_upward(tmp_path: Path) -> None:
    write(tmp_path, '[course]\nid = "a"\ntitle = "A"\n')
    deep = tmp_path / "demo" / "submissions" / "alice"
    deep.mkdir(parents=True)
    assert find_course_root(deep) == tmp_path.resolve()
    assert resolve_course_root(None, env={}, cwd=deep) == tmp_path.resolve()
    other = tmp_path / "elsewhere"
    assert resolve_course_root(other, env={"GRADER_COURSE": "x"}, cwd=deep) == other
    assert resolve_course_root(None, env={"GRADER_COURSE": str(other)}, cwd=deep) == other


def test_no_course_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no course.toml here or in any parent folder"):
        resolve_course_root(None, env={}, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE"}
    run = subprocess.run([*GRADE, "stubs", "--check"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "no course.toml" in run.stderr


def test_this_repository_is_a_course() -> None:
    course = load_course(DEFAULT_ROOT)
    assert course.config.id == "nn-intro" and course.config.student_torch == "cpu"
    assert find_course_root(DEFAULT_ROOT / "demo" / "submissions") == DEFAULT_ROOT


def test_grade_new_writes_into_the_course_it_stands_in(tmp_path: Path) -> None:
    """The issue's bug: run in a copy of the course, `grade new` wrote into the checkout."""
    copy = tmp_path / "course"
    copy.mkdir()
    for part in ("course.toml", "assignments", "solutions"):
        source = DEFAULT_ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, copy / part)
    inside = copy / "assignments"
    env = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE"}
    run = subprocess.run([*GRADE, "new", "optimizers"], cwd=inside, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert (copy / "assignments" / "optimizers" / "assignment.toml").is_file()
    assert not (DEFAULT_ROOT / "assignments" / "optimizers").exists()


def test_course_defaults_sit_under_variables_and_flags() -> None:
    defaults = {"memory_mb": 1024}
    assert limits_from({}, env={}, defaults=defaults).memory_mb == 1024
    assert limits_from({}, env={"GRADER_MEMORY_MB": "512"}, defaults=defaults).memory_mb == 512
    assert limits_from({"memory_mb": "256"}, env={"GRADER_MEMORY_MB": "512"},
                       defaults=defaults).memory_mb == 256
    assert limits_from({}, env={}).memory_mb == 2048


def test_an_output_folder_is_never_a_student(tmp_path: Path) -> None:
    course = load_course(DEFAULT_ROOT)
    submissions = tmp_path / "subs"
    for name in ("alice", "out", "old-run", "notes"):
        (submissions / name).mkdir(parents=True)
    shutil.copy(DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb",
                submissions / "alice")
    (submissions / "out" / OUTPUT_MARKER).write_text("")
    (submissions / "old-run" / "grades.csv").write_text("student\n")
    found = discover(submissions, course.assignments)
    assert found.students == ("alice", "notes")
    reasons = {u.path.name: u.reason for u in found.unrecognized}
    assert "grader output folder" in reasons["out"] and "grades.csv" in reasons["old-run"]


@pytest.mark.slow  # two whole CLI runs of the course
def test_grade_dir_out_dir_slash_out_twice(tmp_path: Path) -> None:
    """`grade DIR --out DIR/out`, then again: the reports are no student the second time."""
    submissions = tmp_path / "subs"
    (submissions / "alice").mkdir(parents=True)
    shutil.copy(DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb",
                submissions / "alice")
    out = submissions / "out"
    for _ in range(2):
        run = subprocess.run([*GRADE, str(submissions), "--out", str(out), "--assignment",
                              "activations", "--sandbox", "process", "-q", "--course",
                              str(DEFAULT_ROOT)], capture_output=True, text=True,
                             timeout=300, check=False)
        assert run.returncode == 0, run.stderr
    rows = (out / "grades.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["alice"]


def test_course_defaults_reach_the_verbs_and_flags_win(tmp_path: Path) -> None:
    """course.toml's test_visibility and memory_mb in a Gradescope build; flags override."""
    course = tmp_path / "course"
    course.mkdir()
    for part in ("assignments", "solutions"):
        shutil.copytree(DEFAULT_ROOT / part, course / part)
    (course / COURSE_FILE).write_text('[course]\nid = "c"\ntitle = "C"\n[defaults]\n'
                                      'test_visibility = "visible"\nmemory_mb = 1536\n')
    env = {k: v for k, v in os.environ.items()
           if k != "GRADER_COURSE" and not k.startswith("GRADER_MEMORY")}
    for flags, visibility, memory in (([], "visible", 1536),
                                      (["--test-visibility", "hidden", "--memory-mb", "1024"],
                                       "hidden", 1024)):
        out = tmp_path / f"{visibility}.zip"
        run = subprocess.run([*GRADE, "gradescope", str(out), "--assignment", "activations",
                              "--torch", "torch==2.13.0", *flags], cwd=course, env=env,
                             capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, run.stderr
        # the course's test_visibility is deprecated: said when it is read, not when a flag wins
        assert ("[defaults] test_visibility is deprecated" in run.stderr) == (not flags)
        with zipfile.ZipFile(out) as archive:
            config = json.loads(archive.read("autograder.json"))
        assert config["test_visibility"] == visibility
        assert config["limits"]["memory_mb"] == memory
