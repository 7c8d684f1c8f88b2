"""Shared harness for the tests of the hidden suites (tests/test_<assignment>_suite.py).

Grades trusted code (references, stubs, mutants, equivalents) with the in-process double and a
fixed secret per assignment. Hidden test names are ``test_<function>__<aspect>``;
:func:`function_of` maps them back, and a mutant's ``# breaks:`` header names the functions
whose tests must lose points.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.core.course import Assignment
from grader.core.results import PASSED, SKIPPED, SubmissionResult
from grader.core.settings import Settings
from grader.sandbox.inprocess import InProcessSandbox
from grader.submission.grade import Job, grade_job
from grader.submission.grade import run_public as grade_public

ROOT = Path(__file__).resolve().parents[2]
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
    """Run the public suite as the grader does (grader.submission.grade.run_public); the names of
    the tests that failed."""
    run = grade_public(path, assignment, Settings(course_root=ROOT), InProcessSandbox())
    assert run.tests, "the public suite ran no tests"
    return [r.name for r in run.tests if r.status != PASSED]
