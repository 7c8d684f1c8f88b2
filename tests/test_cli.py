"""The CLI's own surface: verbs, version, and the commands README gives beside `grade run`."""

from __future__ import annotations

import subprocess
import sys

import grader
from grader.core.course import DEFAULT_ROOT

GRADE = [sys.executable, "-m", "grader.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, *args], capture_output=True, text=True, cwd=DEFAULT_ROOT,
                          timeout=300, check=False)


def test_help_lists_every_verb() -> None:
    result = run("--help")
    assert result.returncode == 0
    for verb in ("run", "validate", "stubs", "new", "release", "ci"):
        assert f"  {verb} " in result.stdout


def test_version() -> None:
    assert grader.__version__ in run("--version").stdout


def test_committed_stubs_are_what_grade_stubs_generates() -> None:
    result = run("stubs", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_assignment_is_a_usage_error(tmp_path) -> None:
    result = run(str(tmp_path), "--assignment", "nope")
    assert result.returncode == 2 and "nope" in result.stderr
