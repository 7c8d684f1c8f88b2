"""Shared harness for the tests of the hidden suites (tests/test_<assignment>_suite.py).

Grades trusted code (references, stubs, mutants, equivalents) with the in-process double and a
fixed secret per assignment. Hidden test names are ``test_<function>__<aspect>``;
:func:`function_of` maps them back, and a mutant's ``# breaks:`` header names the functions
whose tests must lose points.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from grader.course import Assignment
from grader.notebook.extract import extract_module
from grader.notebook.read import read_cells
from grader.results import PASSED, SKIPPED, SubmissionResult
from grader.runner.grade import PYTEST_ARGS, Job, grade_job
from grader.runner.plugin import GradingPlugin
from grader.runner.session import WorkerSession
from grader.sandbox.inprocess import InProcessSandbox
from grader.settings import Limits, Settings

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = ("alice", "bob", "carol")


def corpus(kind: str, assignment_id: str) -> list[Path]:
    """``tests/<kind>/<assignment_id>/*.py``: kind is "mutants" or "equivalents"."""
    return sorted((ROOT / "tests" / kind / assignment_id).glob("*.py"))


def grade(assignment: Assignment, path: Path, student: str = "alice") -> SubmissionResult:
    settings = Settings(course_root=ROOT, secret=f"{assignment.id}-suite-test-secret")
    return grade_job(Job(student, assignment, path), settings, InProcessSandbox())


def function_of(test_name: str, functions: tuple[str, ...]) -> str:
    """``test_tanh_grad__values`` -> ``tanh_grad`` (exact match, so tanh != tanh_grad)."""
    name = test_name.removeprefix("test_").split("__")[0]
    assert name in functions, f"{test_name} does not name a contract function"
    return name


def breaks_of(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^# mutant: \S", text, re.M), f"{path.name}: no '# mutant:' header"
    match = re.search(r"^# breaks: (.+)$", text, re.M)
    assert match, f"{path.name}: no '# breaks:' header"
    return {name.strip() for name in match.group(1).split(",")}


def lost(result: SubmissionResult) -> list[str]:
    return [t.name for t in result.tests if t.score < t.max_score]


def describe(result: SubmissionResult) -> str:
    return "\n".join(f"{t.name}: {t.status}: {t.message[:300]}"
                     for t in result.tests if t.status not in (PASSED, SKIPPED))


def run_public(assignment: Assignment, path: Path) -> list[str]:
    """Run the public suite with the grading plugin; the names of the tests that failed."""
    module = extract_module(read_cells(path), assignment.functions)
    session = WorkerSession(InProcessSandbox(), Limits(), list(module.statements))
    plugin = GradingPlugin(session, 0, "cpu")
    public = assignment.public_dir
    args = [*PYTEST_ARGS, "--rootdir", str(public),
            "-c", str(assignment.hidden_suite.parent / "pytest.ini"), str(public)]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pytest.main(args, plugins=[plugin])
    finally:
        session.close()
    assert not plugin.collection_errors, plugin.collection_errors
    assert plugin.results, "the public suite ran no tests"
    return [r.name for r in plugin.results if r.status != PASSED]
