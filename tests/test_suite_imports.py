"""Suites (hidden and public) import the grader only through ``grader.suite``: its internals
(runner, worker, sandbox) can change without touching a course. Also: every exception the
grader raises on purpose belongs to the one tree of grader/core/errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import grader.suite
from grader.core import errors
from grader.submission import proxy, session

ROOT = Path(__file__).resolve().parent.parent
SUITES = sorted([*(ROOT / "solutions" / "hidden").glob("*.py"),
                 *(ROOT / "assignments").glob("*/public/*.py")])


def grader_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            if node.module == "grader":
                names.extend(f"grader.{alias.name}" for alias in node.names)
    return [n for n in names if n == "grader" or n.startswith("grader.")]


def test_there_are_suites_to_check() -> None:
    assert len(SUITES) >= 8


@pytest.mark.parametrize("path", SUITES, ids=lambda p: str(p.relative_to(ROOT)))
def test_suites_import_only_the_public_suite_api(path: Path) -> None:
    assert set(grader_imports(path)) <= {"grader.suite"}


def test_the_suite_api_exports_what_suites_use() -> None:
    used: set[str] = set()
    for path in SUITES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "grader.suite":
                used.update(alias.name for alias in node.names)
    assert used <= set(grader.suite.__all__)
    assert all(hasattr(grader.suite, name) for name in grader.suite.__all__)


def test_student_errors_belong_to_the_tree() -> None:
    """Verdicts about the student's code are their own branch, never a grader failure."""
    for kind in (grader.suite.StudentError, grader.suite.NotAttempted, proxy.StaleObject,
                 session.StudentError):
        assert issubclass(kind, errors.Verdict)
        assert not issubclass(kind, errors.GraderError)
    assert session.NotAttempted is errors.NotAttempted
