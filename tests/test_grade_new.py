"""`grade new ID`: a fifth assignment from one command, with no change under grader/.

In a copy of the course, `grade new` scaffolds an assignment whose example passes `grade
validate` as generated; an instructor then writes their own function (``halve`` here) into the
reference, the hidden suite, the public test, one mutant and the demo's bug, runs `grade stubs`
and `grade validate`, and the demo class built by demo/make_demo.py is graded right on it.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers.course_copy import HALVE, MUTANT, PUBLIC, SUITE, copy_course, grade

from grader.core.course import DEFAULT_ROOT, load_course
from grader.extract.stub import stub_text


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "course")


def test_new_assignment_validates_as_generated(course: Path) -> None:
    made = grade(course, "new", "scaling", "--title", 'Scaling "arrays"')
    assert made.returncode == 0, made.stderr
    assignment = load_course(course).get("scaling")
    assert assignment.title == 'Scaling "arrays"' and assignment.functions == ("double",)
    assert load_course(course).assignments[-1].id == "scaling"  # ordered after the others
    assert assignment.stub.read_text() == stub_text(assignment.reference, "scaling")
    assert "from grader.suite import" in assignment.hidden_suite.read_text()
    mutants = sorted((course / "tests" / "mutants" / "scaling").glob("*.py"))
    equivalents = sorted((course / "tests" / "equivalents" / "scaling").glob("*.py"))
    assert len(mutants) >= 12 and len(equivalents) >= 3  # tests/test_suite_corpus.py's rule
    assert all("\n# breaks: double\n" in path.read_text() for path in mutants)
    checked = grade(course, "validate", "--assignment", "scaling")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "scaling            100     0    12/12 (100%)  ok" in checked.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["new", "activations"], "grade: error: grade new: assignment 'activations' exists already"),
    (["new", "Bad-Id"], "grade: error: grade new: bad id 'Bad-Id'"),
    (["new", "../escape"], "grade: error: grade new: bad id '../escape'"),
])
def test_an_existing_or_bad_id_is_one_line_and_writes_nothing(course: Path, args: list[str],
                                                                message: str) -> None:
    before = sorted(course.rglob("*"))
    refused = grade(course, *args)
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 1 and refused.stderr.startswith(message)
    assert sorted(course.rglob("*")) == before


def fill_in_halve(course: Path) -> None:
    """What an instructor edits after `grade new scaling`: no file under grader/."""
    meta = course / "assignments" / "scaling" / "assignment.toml"
    meta.write_text(meta.read_text().replace('["double"]', '["halve"]').replace(
        'bug = ["return 2 * x", "return x + 2"]', 'bug = ["return x / 2", "return x // 2"]'))
    reference = course / "solutions" / "scaling.ipynb"
    notebook = nbformat.read(reference, as_version=4)
    cell = next(c for c in notebook.cells if "def double" in c.source)
    cell.source = HALVE
    nbformat.write(notebook, reference)
    (course / "solutions" / "hidden" / "test_scaling.py").write_text(SUITE)
    (course / "assignments" / "scaling" / "public" / "test_scaling_public.py").write_text(PUBLIC)
    for kind in ("mutants", "equivalents"):
        shutil.rmtree(course / "tests" / kind / "scaling")
    (course / "tests" / "mutants" / "scaling").mkdir()
    (course / "tests" / "mutants" / "scaling" / "floor_division.py").write_text(MUTANT)


@pytest.mark.slow  # validates a course and grades the demo class through the CLI
def test_a_filled_in_assignment_validates_and_grades_the_demo_class(course: Path,
                                                                      tmp_path: Path) -> None:
    assert grade(course, "new", "scaling").returncode == 0
    fill_in_halve(course)
    assert grade(course, "stubs", "--check").returncode == 1  # the stub still has double
    assert grade(course, "stubs").returncode == 0
    checked = grade(course, "validate", "--assignment", "scaling")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "scaling            100     0      1/1 (100%)  ok" in checked.stdout

    demo = subprocess.run([sys.executable, str(course / "demo" / "make_demo.py")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert demo.returncode == 0, demo.stderr
    out = tmp_path / "out"
    graded = grade(course, str(course / "demo" / "submissions"), "--assignment", "scaling",
                   "--out", str(out), "--sandbox", "process", "--jobs", "2", "--quiet")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with open(out / "grades.csv", newline="") as rows:
        scores = {row["student"]: float(row["score"]) for row in csv.DictReader(rows)
                  if row["assignment"] == "scaling"}
    # one function and one 100-point test: bob's bug and dave's broken cell cost everything
    assert scores == {"alice": 100, "bob": 0, "carol": 0, "dave": 0, "erin": 100,
                      "frank": 100}
    assert not (DEFAULT_ROOT / "assignments" / "scaling").exists()


def fill_in(path: Path, answers: dict[str, str]) -> None:
    """Each line that holds a key of ``answers`` becomes its value (indentation kept)."""
    lines = path.read_text().split("\n")
    for k, line in enumerate(lines):
        for key, answer in answers.items():
            if key in line:
                lines[k] = line[:len(line) - len(line.lstrip())] + answer
    path.write_text("\n".join(lines))


def test_new_with_functions_leaves_only_bodies_and_tests(course: Path) -> None:
    made = grade(course, "new", "scaling", "--functions", "scale,shift")
    assert made.returncode == 0, made.stderr
    assignment = load_course(course).get("scaling")
    assert assignment.functions == ("scale", "shift")
    reference = "\n".join(c.source for c in nbformat.read(assignment.reference, 4).cells)
    assert "def scale(x):" in reference and "def shift(x):" in reference
    suite = assignment.hidden_suite.read_text()
    assert "def test_scale__values(" in suite and "def test_shift__values(" in suite
    assert suite.count("@pytest.mark.points(50)") == 2
    public = (assignment.public_dir / "test_scaling_public.py").read_text()
    assert "student.scale(x)" in public and "student.shift(x)" in public and "double" not in public
    assert assignment.stub.read_text() == stub_text(assignment.reference, "scaling")
    assert not (course / "tests" / "mutants" / "scaling").exists()
    steps = made.stdout[made.stdout.index("next:"):]
    for text in ("solutions/scaling.ipynb", "solutions/hidden/test_scaling.py",
                 "assignments/scaling/public/test_scaling_public.py", "`grade stubs`",
                 "`grade validate --assignment scaling`", "python demo/make_demo.py"):
        assert text in steps, text

    unfinished = grade(course, "validate", "--assignment", "scaling")
    assert unfinished.returncode == 1
    assert [line.strip() for line in unfinished.stdout.splitlines() if "TODO" in line] == [
        "solutions/scaling.ipynb: 4 TODO(grade new) placeholder(s) left to fill in",
        "solutions/hidden/test_scaling.py: 4 TODO(grade new) placeholder(s) left to fill in",
        "assignments/scaling/public/test_scaling_public.py: 2 TODO(grade new) placeholder(s) "
        "left to fill in"]

    # the steps printed, and nothing else: the reference's bodies and the tests' answers
    notebook = nbformat.read(assignment.reference, as_version=4)
    for cell in notebook.cells:
        for name, body in (("scale", "return 3 * x"), ("shift", "return x + 1")):
            if f"def {name}(x)" in cell.source:
                cell.source = (f'def {name}(x):\n    """{name} x."""\n    ### BEGIN SOLUTION\n'
                               f"    {body}\n    ### END SOLUTION\n")
    nbformat.write(notebook, assignment.reference)
    fill_in(assignment.hidden_suite, {
        '"""scale: TODO(grade new)': '"""scale: three times x"""',
        "TODO(grade new): the right answer of scale(x)": "expected = 3 * x",
        '"""shift: TODO(grade new)': '"""shift: x plus one"""',
        "TODO(grade new): the right answer of shift(x)": "expected = x + 1"})
    fill_in(assignment.public_dir / "test_scaling_public.py", {
        "TODO(grade new): scale(x)": "expected = [-3.0, 0.0, 6.0]",
        "TODO(grade new): shift(x)": "expected = [0.0, 1.0, 3.0]"})
    assert grade(course, "stubs").returncode == 0
    checked = grade(course, "validate", "--assignment", "scaling")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "scaling            100     0        0/0 (0%)  ok" in checked.stdout


@pytest.mark.parametrize(("functions", "message"), [
    ("a__b", "grade: error: grade new: --functions: bad name 'a__b'"),
    ("f,class", "grade: error: grade new: --functions: bad name 'class'"),
    ("f,g,f", "grade: error: grade new: --functions: 'f' is named twice"),
])
def test_bad_function_names_are_one_line(course: Path, functions: str, message: str) -> None:
    refused = grade(course, "new", "scaling", "--functions", functions)
    assert refused.returncode == 2 and refused.stderr.startswith(message), refused.stderr
    assert not (course / "assignments" / "scaling").exists()
