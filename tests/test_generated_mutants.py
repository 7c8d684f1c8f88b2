"""Mutants derived from the reference (issue 26): the operators, the score, the equivalents.

The operators run on real reference code (this course's references and small functions
written here); validate grades the mutants through the grading path, names equivalent mutants
apart (a mirror module graded by the hidden suite), shows each survivor as a diff and holds
the assignment to the course's ``[validate] mutation_score``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.commands.consistency import load_reference
from grader.commands.generated import required_score
from grader.commands.mutation import OPERATORS, generate
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError

GRADE = [sys.executable, "-m", "grader.cli"]

NUMERIC = '''import numpy as np


def softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def relu(x):
    y = x.copy()
    y[y < 0] = 0
    return y


def dense(x, W, b):
    return x @ W.T + b


def first(v):
    return v[0] + v[1:].sum()


def scaled(x, flip=False):
    x = x * 2.0
    return -x if not flip else x
'''
TRAINING = '''import torch


def train(model, x, y, epochs=3):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return loss.item()


def evaluate(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)
'''


def by_function(source: str, functions: tuple[str, ...], cap: int = 12) -> dict[str, list]:
    found: dict[str, list] = {name: [] for name in functions}
    for mutant in generate(source, functions, cap):
        found[mutant.function].append(mutant)
    return found


def test_every_numerical_operator_makes_its_bug() -> None:
    functions = ("softmax", "relu", "dense", "first", "scaled")
    mutants = generate(NUMERIC, functions, cap=40)
    made = {(m.function, m.operator, m.description) for m in mutants}
    for expected in [("softmax", "reduction", "max -> min"),
                     ("softmax", "reduction", "sum -> mean"), ("softmax", "axis", "axis=-1 -> 0"),
                     ("softmax", "reduction", "keepdims=True -> False"),
                     ("softmax", "sign", "+ and - swapped"),
                     ("softmax", "drop_term", "term dropped"),
                     ("softmax", "swap", "operands swapped"),
                     ("relu", "inplace", ".copy() dropped: the input is changed in place"),
                     ("relu", "compare", "comparison boundary changed"),
                     ("relu", "constant", "constant 0 -> 1"),
                     ("dense", "transpose", ".T dropped"), ("dense", "swap", "operands swapped"),
                     ("first", "axis", "index 0 -> 1"), ("first", "axis", "slice bound 1 -> 2"),
                     ("scaled", "inplace", "x updated in place"),
                     ("scaled", "sign", "unary minus dropped"),
                     ("scaled", "constant", "constant 2.0 -> 4.0"),
                     ("scaled", "compare", "condition inverted"),
                     ("scaled", "compare", "not dropped")]:
        assert expected in made, expected
    original = {node.name: ast.unparse(node) for node in ast.parse(NUMERIC).body
                if isinstance(node, ast.FunctionDef)}
    for mutant in mutants:  # one change, in its own function only, and it runs
        changed = {node.name: ast.unparse(node) for node in ast.parse(mutant.source).body
                   if isinstance(node, ast.FunctionDef)}
        assert [n for n in original if original[n] != changed[n]] == [mutant.function]
        assert changed[mutant.function].split(":")[0] == original[mutant.function].split(":")[0]
        assert mutant.diff.startswith(f"--- reference: {mutant.function}\n")
        compile(mutant.source, mutant.name, "exec")
    assert len({m.source for m in mutants}) == len(mutants)


def test_training_operators_come_first_and_the_cap_holds() -> None:
    found = by_function(TRAINING, ("train", "evaluate"), cap=4)
    assert found["train"][0].description == "call optimizer.zero_grad() dropped"
    assert "-        optimizer.zero_grad()" in found["train"][0].diff
    assert len(found["train"]) == 4
    assert {m.operator for m in found["evaluate"]} >= {"drop_call", "no_grad"}
    more = [m.description for m in by_function(TRAINING, ("train",), cap=40)["train"]]
    drops = [d for d in more if d.startswith("call ")]
    assert drops[:3] == ["call optimizer.zero_grad() dropped", "call loss.backward() dropped",
                         "call optimizer.step() dropped"]


@pytest.mark.parametrize("assignment_id", [a.id for a in load_course(DEFAULT_ROOT).assignments])
def test_the_course_references_give_mutants_for_every_function(assignment_id: str) -> None:
    assignment = load_course(DEFAULT_ROOT).get(assignment_id)
    found = by_function(load_reference(assignment).source, assignment.functions)
    assert all(1 <= len(mutants) <= 12 for mutants in found.values()), {
        name: len(mutants) for name, mutants in found.items()}
    assert set(OPERATORS) >= {m.operator for ms in found.values() for m in ms}


# --------------------------------------------------------------------- through grade validate

HALVE = '''import numpy as np


def halve(x):
    """x / 2, element-wise."""
    ### BEGIN SOLUTION
    return np.multiply(x, 0.5)
    ### END SOLUTION
'''
STRONG = '''import pytest

from grader.suite import check_close


@pytest.mark.points(100)
def test_halve__values(student, rng):
    """halve: half of random arrays"""
    x = rng.uniform(-9, 9, size=(2, 5))
    check_close(student.halve(x), x / 2, name="halve(x)", inputs={"x": x})
'''
WEAK = '''import numpy as np
import pytest

from grader.suite import check


@pytest.mark.points(100)
def test_halve__shape(student, rng):
    """halve: keeps the shape"""
    x = rng.uniform(-9, 9, size=(2, 5))
    check(np.shape(student.halve(x)) == (2, 5), "halve(x) keeps the shape of x")
'''
PUBLIC = '''def test_halve_values(student):
    """halve on one value"""
    assert student.halve(3.0) == 1.5
'''


def grade(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, *args, "--course", str(course)], capture_output=True,
                          text=True, timeout=600, check=False, cwd=course)


@pytest.fixture(scope="module")
def halve_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with one assignment, halve(x) = np.multiply(x, 0.5), made by grade new."""
    root = tmp_path_factory.mktemp("generated") / "course"
    (root / "assignments").mkdir(parents=True)
    (root / "solutions" / "hidden").mkdir(parents=True)
    shutil.copy2(DEFAULT_ROOT / "solutions" / "hidden" / "pytest.ini",
                 root / "solutions" / "hidden" / "pytest.ini")
    assert grade(root, "new", "halving", "--functions", "halve").returncode == 0
    reference = root / "solutions" / "halving.ipynb"
    notebook = nbformat.read(reference, as_version=4)
    notebook.cells = [notebook.cells[0], nbformat.v4.new_code_cell(HALVE)]
    nbformat.write(notebook, reference)
    (root / "assignments" / "halving" / "public" / "test_halving_public.py").write_text(PUBLIC)
    assert grade(root, "stubs").returncode == 0
    return root


def test_survivors_are_diffs_equivalents_apart_and_the_course_score_holds(
        halve_course: Path) -> None:
    suite = halve_course / "solutions" / "hidden" / "test_halving.py"
    (halve_course / "course.toml").write_text("[validate]\nmutation_score = 80\n")
    suite.write_text(WEAK)
    weak = grade(halve_course, "validate")
    assert weak.returncode == 1, weak.stdout + weak.stderr
    lines = weak.stdout.splitlines()
    assert ("  generated mutants: 2 made, 0 killed, 1 equivalent, 1 surviving: score 0% "
            "(course requires 80%)") in weak.stdout
    assert "  equivalent (not counted): halve__01_swap: first two arguments swapped" in lines
    survivor = lines.index("  survived: halve__02_constant: constant 0.5 -> 1.0")
    assert lines[survivor + 1:survivor + 6] == [
        "    --- reference: halve", "    +++ mutant: halve", "    @@ -2,2 +2,2 @@",
        '         """x / 2, element-wise."""',
        "    -    return np.multiply(x, 0.5)"]
    assert lines[survivor + 6] == "    +    return np.multiply(x, 1.0)"

    suite.write_text(STRONG)
    strong = grade(halve_course, "validate")
    assert strong.returncode == 0, strong.stdout + strong.stderr
    assert ("  generated mutants: 2 made, 1 killed, 1 equivalent, 0 surviving: score 100% "
            "(course requires 80%)") in strong.stdout


@pytest.mark.parametrize(("text", "score"), [
    ("", 0.0), ("[validate]\nmutation_score = 75\n", 75.0), ("[validate]\n", 0.0)])
def test_the_required_score_comes_from_course_toml(tmp_path: Path, text: str,
                                                    score: float) -> None:
    (tmp_path / "course.toml").write_text(text)
    assert required_score(tmp_path) == score


@pytest.mark.parametrize("value", ["101", "-1", '"high"', "true"])
def test_a_bad_required_score_is_one_line(tmp_path: Path, value: str) -> None:
    (tmp_path / "course.toml").write_text(f"[validate]\nmutation_score = {value}\n")
    with pytest.raises(ConfigError, match=r"course.toml: \[validate\] mutation_score must be"):
        required_score(tmp_path)


@pytest.mark.slow  # every file of the mutation corpus
def test_every_corpus_file_mutates_cleanly() -> None:
    """The generator on this course's equivalents (correct solutions, each written differently
    from the reference) and one hand-written mutant per assignment: every mutant compiles and
    changes exactly its function; no function gets more than the cap."""
    course = load_course(DEFAULT_ROOT)
    files = sorted((DEFAULT_ROOT / "tests" / "equivalents").glob("*/*.py"))
    files += [sorted(folder.glob("*.py"))[0]
              for folder in sorted((DEFAULT_ROOT / "tests" / "mutants").iterdir())]
    assert len(files) >= 20
    for path in files:
        functions = course.get(path.parent.name).functions
        source = path.read_text()
        before = {n.name: ast.unparse(n) for n in ast.parse(source).body
                  if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        counts: dict[str, int] = {}
        for mutant in generate(source, functions):
            compile(mutant.source, f"{path.name}:{mutant.name}", "exec")
            after = {n.name: ast.unparse(n) for n in ast.parse(mutant.source).body
                     if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            assert [n for n in before if before[n] != after[n]] == [mutant.function], path
            counts[mutant.function] = counts.get(mutant.function, 0) + 1
        assert max(counts.values(), default=0) <= 12, path
