"""`grade validate` cannot say ok on a half-finished assignment (issue 26).

Reproduces the run of the issue: `grade new halve`, then only the reference and the hidden
suite edited (the steps an instructor takes first), `grade stubs`, `grade validate`: exit 1,
one line per inconsistency naming its file (the toml, the public test, each example mutant,
...), nothing graded. Fixing those files makes validate pass. Then single breakages of the
corrected assignment, one at a time, each give their own line.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from helpers.course_copy import HALVE, MUTANT, PUBLIC, SUITE, copy_course, grade

from grader.commands.validate import validate
from grader.core.course import DEFAULT_ROOT, load_course


def write_reference_and_suite(course: Path) -> None:
    """What the issue's instructor edited after `grade new halve`: nothing else."""
    reference = course / "solutions" / "halve.ipynb"
    notebook = nbformat.read(reference, as_version=4)
    cell = next(c for c in notebook.cells if "def double" in c.source)
    cell.source = HALVE
    nbformat.write(notebook, reference)
    (course / "solutions" / "hidden" / "test_halve.py").write_text(SUITE)


def fix_the_rest(course: Path) -> None:
    """What validate's lines point at: the toml, the public test, the example mutants."""
    meta = course / "assignments" / "halve" / "assignment.toml"
    meta.write_text(meta.read_text().replace('["double"]', '["halve"]'))
    (course / "assignments" / "halve" / "public" / "test_halve_public.py").write_text(PUBLIC)
    mutants = course / "tests" / "mutants" / "halve"
    shutil.rmtree(mutants)
    mutants.mkdir()
    (mutants / "floor_division.py").write_text(MUTANT)


@pytest.fixture(scope="module")
def halve_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course with `halve` made by `grade new` and only its reference and suite edited."""
    course = copy_course(tmp_path_factory.mktemp("halve") / "course")
    assert grade(course, "new", "halve").returncode == 0
    write_reference_and_suite(course)
    assert grade(course, "stubs").returncode == 0
    return course


def test_the_issues_halve_run_fails_with_a_line_per_inconsistency(halve_course: Path) -> None:
    checked = grade(halve_course, "validate", "--assignment", "halve")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    lines = [line.strip() for line in checked.stdout.splitlines()]
    assert "halve        inconsistent: 18 problem(s), nothing graded  FAIL" in lines

    def line(start: str) -> str:
        found = [text for text in lines if text.startswith(start)]
        assert len(found) == 1, f"one line starting {start!r} in:\n{checked.stdout}"
        return found[0]

    assert "names 'double', which the reference solutions/halve.ipynb does not define" in line(
        "assignments/halve/assignment.toml:")
    assert "calls student.double, which the reference does not define" in line(
        "assignments/halve/public/test_halve_public.py:")
    assert "grades 'halve', which assignment.toml's functions do not name" in line(
        "solutions/hidden/test_halve.py: test_halve__values")
    assert "leaves 'halve' for students to write" in line(
        "assignments/halve/halve.ipynb: leaves")
    for mutant in sorted((halve_course / "tests" / "mutants" / "halve").glob("*.py")):
        assert "breaks 'double', which the reference does not define" in line(
            f"tests/mutants/halve/{mutant.name}:")
    assert "mutants killed: 0/0" in lines  # the example mutants were never graded


def edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(course: Path) -> None:
        path = course / relative
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
    return apply


MUTANT_PATH = "tests/mutants/halve/floor_division.py"
BREAKAGES = {
    "points": (edit("solutions/hidden/test_halve.py", "points(100)", "points(90)"),
               "solutions/hidden/test_halve.py: the points add up to 90, not 100"),
    "unnamed test": (edit("solutions/hidden/test_halve.py", "test_halve__values", "test_values"),
                     "solutions/hidden/test_halve.py: test_values does not name the function",
                     "solutions/hidden/test_halve.py: no test worth points grades 'halve'"),
    "mutant as reference": (edit(MUTANT_PATH, "x // 2", "x / 2"),
                            f"{MUTANT_PATH}: defines halve as the reference does"),
    "mutant without header": (edit(MUTANT_PATH, "# breaks: halve\n", ""),
                              f"{MUTANT_PATH}: no '# breaks: <function>' header"),
    "trusting suite": (edit("solutions/hidden/test_halve.py",
                            "check_close(student.halve(x), x / 2, name=",
                            "want = student.halve(x)\n"
                            "        check_close(student.halve(x), want, name="),
                       "solutions/hidden/test_halve.py: line 12: test_halve__values: compares "
                       "values that all come from the student's process"),
    "reference from student globals": (
        edit("solutions/hidden/test_halve.py", "x / 2, name=", "student.EXPECTED, name="),
        "solutions/hidden/test_halve.py: line 11: test_halve__values: compares values that all "
        "come from the student's process",
        "solutions/hidden/test_halve.py: line 11: test_halve__values: reads student.EXPECTED"),
    "stale stub": (edit("solutions/halve.ipynb", "x / 2, element-wise.", "Half of x."),
                   "assignments/halve/halve.ipynb: out of date with the reference"),
}


def test_the_corrected_assignment_passes_and_each_breakage_is_named(
        halve_course: Path, tmp_path: Path) -> None:
    fix_the_rest(halve_course)
    checked = grade(halve_course, "validate", "--assignment", "halve")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "halve              100     0      1/1 (100%)  ok" in checked.stdout
    for name, (breakage, *expected) in BREAKAGES.items():
        # validate's own function, as the command above calls it (no new process per breakage)
        course = tmp_path / name.replace(" ", "_")
        shutil.copytree(halve_course, course)
        breakage(course)
        lines: list[str] = []
        assert validate(load_course(course), course / "tests" / "mutants", "inprocess",
                        only=("halve",), echo=lines.append) is False, (name, lines)
        problems = [line.strip() for line in lines
                    if line.startswith("  ") and not line.startswith(("  budgets", "  validated"))]
        assert len(problems) == len(expected), (name, lines)
        assert all(map(str.startswith, problems, expected)), (name, lines)


def test_a_mutant_is_killed_only_by_a_test_of_the_function_it_breaks(tmp_path: Path) -> None:
    """A mutant of relu that is right about relu but lacks softmax: softmax's tests fail on the
    missing name, relu's pass. The old validate counted it killed; it survives."""
    course = load_course(DEFAULT_ROOT)
    reference = (DEFAULT_ROOT / "tests" / "mutants" / "activations" / "relu_inplace.py")
    source = reference.read_text()
    assert "def softmax" in source and "# breaks: relu\n" in source
    body = source[:source.index("def softmax")]
    body = body.replace(body[body.index("def relu(x):"):body.index("def relu_grad")],
                        "def relu(x):\n    return np.where(x > 0, x, 0.0)\n\n\n")
    corpus = tmp_path / "mutants" / "activations"
    corpus.mkdir(parents=True)
    (corpus / "no_softmax.py").write_text(body)
    lines: list[str] = []
    only = type(course)(root=course.root, assignments=(course.get("activations"),))
    assert validate(only, tmp_path / "mutants", "inprocess", echo=lines.append,
                    generate=False) is False
    assert any(line.startswith("  survived: no_softmax") for line in lines), lines
