"""Test budgets from the reference's own time (grader.suite.budgets): the rule, the file, its
measurement by `grade validate`, the marker and the override."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import pytest

from grader.commands.grade import RunRequest, run
from grader.commands.validate import validate
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import CourseError
from grader.core.settings import DEFAULT_TEST_BUDGET_S, Limits, Settings
from grader.sandbox.inprocess import InProcessSandbox
from grader.submission.grade import Job, grade_job, suite_hash
from grader.suite import budgets

COURSE = load_course(DEFAULT_ROOT)


def copy_course(target: Path, assignment_id: str = "activations") -> Path:
    """A course root holding one assignment of this one (no budgets file)."""
    shutil.copytree(DEFAULT_ROOT / "assignments" / assignment_id,
                    target / "assignments" / assignment_id)
    hidden = target / "solutions" / "hidden"
    hidden.mkdir(parents=True)
    for name in (f"test_{assignment_id}.py", "pytest.ini"):
        shutil.copy(DEFAULT_ROOT / "solutions" / "hidden" / name, hidden / name)
    shutil.copy(DEFAULT_ROOT / "solutions" / f"{assignment_id}.ipynb", target / "solutions")
    shutil.copy(DEFAULT_ROOT / "solutions" / "course_secret", target / "solutions")
    return target


def test_the_rule_and_its_order() -> None:
    measured = budgets.Budgets({"test_fast": 0.001, "test_slow": 0.5})
    assert measured.for_test("test_fast") == budgets.FLOOR_S
    assert measured.for_test("test_slow") == budgets.MULTIPLE * 0.5
    assert measured.for_test("test_unmeasured") == DEFAULT_TEST_BUDGET_S
    assert measured.for_test("test_fast", marker_s=7.0) == 7.0
    override = budgets.Budgets({"test_fast": 0.001}, override_s=3.0)
    assert override.for_test("test_fast", marker_s=7.0) == 3.0
    cuda = budgets.Budgets({"test_fast": 0.001}, extra_s=budgets.CUDA_EXTRA_S)
    assert cuda.for_test("test_fast") == budgets.FLOOR_S + budgets.CUDA_EXTRA_S


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_the_committed_budgets_are_measured_for_every_suite_as_it_is(assignment) -> None:
    """Run `grade validate` after changing a suite: it measures the changed suite again."""
    measured, why = budgets.measurement(assignment, suite_hash(assignment))
    assert measured is not None, why
    tree = ast.parse(assignment.hidden_suite.read_text(encoding="utf-8"))
    tests = {node.name for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    assert set(measured) == tests


def test_a_missing_or_stale_measurement_falls_back_and_says_so(tmp_path: Path) -> None:
    course = load_course(copy_course(tmp_path))
    assignment = course.get("activations")
    digest = suite_hash(assignment)
    assert "does not exist" in budgets.measurement(assignment, digest)[1]
    budgets.record(assignment, "0" * 16, {"test_relu__values": 0.001})
    measured, why = budgets.measurement(assignment, digest)
    assert measured is None and f"the suite is now {digest}" in why
    assert budgets.suite_budgets(assignment, digest).for_test("test_relu__values") == \
        DEFAULT_TEST_BUDGET_S
    lines: list[str] = []
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    run(RunRequest(tmp_path / "subs", tmp_path / "out", quiet=True), course,
        Settings(course_root=course.root, sandbox="inprocess", secret="s"), echo=lines.append)
    assert any(line.startswith("budgets: ") and "activations's tests get 60 s each" in line
               for line in lines), lines


def test_a_malformed_budgets_file_names_itself(tmp_path: Path) -> None:
    course = load_course(copy_course(tmp_path))
    assignment = course.get("activations")
    budgets.budgets_file(assignment).write_text('{"suites": {"activations": {"suite_hash": 1}}}')
    with pytest.raises(CourseError, match=r"budgets\.json: suite 'activations' needs"):
        budgets.measurement(assignment, suite_hash(assignment))


@pytest.fixture
def own_suite_module():
    """The copied suite is imported as ``test_activations`` too: keep this process's own."""
    saved = sys.modules.pop("test_activations", None)
    yield
    sys.modules.pop("test_activations", None)
    if saved is not None:
        sys.modules["test_activations"] = saved


@pytest.mark.slow  # validates a copy of the course, twice
def test_validate_measures_a_new_suite_once(tmp_path: Path, own_suite_module) -> None:
    course = load_course(copy_course(tmp_path))
    assignment = course.get("activations")
    lines: list[str] = []
    assert validate(course, tmp_path / "no-mutants", "inprocess", echo=lines.append)
    assert any("budgets: measured now into budgets.json" in line for line in lines), lines
    data = json.loads(budgets.budgets_file(assignment).read_text())
    entry = data["suites"]["activations"]
    assert entry["suite_hash"] == suite_hash(assignment)
    assert set(entry["worker_s"]) == set(
        budgets.measurement(COURSE.get("activations"), suite_hash(assignment))[0])
    lines.clear()
    assert validate(course, tmp_path / "no-mutants", "inprocess", echo=lines.append)
    assert any("budgets: measured earlier for this suite" in line for line in lines), lines


SUITE = '''
import pytest


@pytest.mark.points(1)
@pytest.mark.budget(7.5)
def test_relu__marked(student):
    assert student.relu(1.0) == 1.0


@pytest.mark.points(1)
def test_relu__measured(student):
    assert student.relu(2.0) == 2.0
'''


def test_a_marker_sets_a_tests_budget_and_the_flag_overrides_all(tmp_path: Path) -> None:
    # its own assignment id: a suite module named test_activations is imported already
    folder = tmp_path / "assignments" / "marked"
    folder.mkdir(parents=True)
    (folder / "assignment.toml").write_text('title = "Marked"\nfunctions = ["relu"]\n')
    (tmp_path / "solutions" / "hidden").mkdir(parents=True)
    shutil.copy(COURSE.get("activations").reference, tmp_path / "solutions" / "marked.ipynb")
    (tmp_path / "solutions" / "hidden" / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "solutions" / "hidden" / "test_marked.py").write_text(SUITE, encoding="utf-8")
    course = load_course(tmp_path)
    assignment = course.get("marked")
    budgets.record(assignment, suite_hash(assignment),
                   {"test_relu__marked": 0.001, "test_relu__measured": 0.3})
    job = Job("ada", assignment, assignment.reference)

    def budget_of(limits: Limits) -> dict[str, float]:
        settings = Settings(course_root=course.root, secret="s", limits=limits)
        result = grade_job(job, settings, InProcessSandbox())
        assert result.score == 2, [t.message for t in result.tests]
        return {t.name: t.budget_s for t in result.tests}

    assert budget_of(Limits()) == {"test_relu__marked": 7.5,
                                   "test_relu__measured": budgets.rule(0.3)}
    assert budget_of(Limits(test_timeout_s=4.0)) == {"test_relu__marked": 4.0,
                                                     "test_relu__measured": 4.0}
