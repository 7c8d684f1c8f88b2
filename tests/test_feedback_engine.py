"""One feedback engine (issue 29): places a student can find, and the same words everywhere.

dave's syntax error is named by code-cell number as Jupyter counts code cells, with the line
quoted and a caret; bob's sigmoid-sign notebook gets the same cause line from ``grade``
(feedback.md, results.json), ``python -m selfcheck`` and ``check()`` in a real kernel.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from helpers.bundle import bundle_python, fill_stub, make_bundle
from helpers.sigmoid_sign import SIGMOID_CAUSE, sigmoid_notebook

from grader.core.course import DEFAULT_ROOT
from grader.core.feedback import broken_cell, explain, plain_text, student_note, verdict
from grader.core.results import FAILED, NOT_ATTEMPTED, PASSED, TestResult
from grader.extract.parse import parse_cell
from grader.extract.pipeline import extract_module
from grader.extract.read import read_cells
from grader.release.bundle import MIN_LINE, solution_lines

ROOT = DEFAULT_ROOT
GRADE = [sys.executable, "-m", "grader.cli"]
DAVE = ROOT / "demo" / "submissions" / "dave" / "activations.ipynb"


def _load(path: Path, name: str):  # noqa: ANN202 - a test module
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- 1. places a student can find ----------------------------------------------------------


def test_code_cells_are_numbered_as_jupyter_counts_them() -> None:
    """Markdown cells are not counted: dave's softmax cell is the 12th cell, the 6th code cell."""
    raw = json.loads(DAVE.read_text())
    code = [i for i, c in enumerate(raw["cells"], 1) if c["cell_type"] == "code"]
    softmax = next(i for i, c in enumerate(raw["cells"], 1)
                   if "def softmax" in "".join(c["source"]))
    cells = read_cells(DAVE)
    assert [c.index for c in cells] == list(range(1, len(code) + 1))
    number = code.index(softmax) + 1
    assert number == 6 and softmax == 12
    assert "def softmax" in cells[number - 1].source


def test_a_syntax_note_quotes_the_line_with_a_caret() -> None:
    _, notes = parse_cell(3, "import numpy as np\n\ndef f(x)\n    return x\n")
    first, quote = notes[0].split("\n", 1)
    assert first == ("code cell 3, line 3: syntax error (expected ':'); lines 3-4 were skipped "
                     "(it defines f)")
    assert quote == "    def f(x)\n            ^"  # under the place the colon is missing
    said = student_note(notes[0])
    assert said.text.startswith("code cell 3 (the one defining f), line 3: syntax error")
    assert said.quote == quote
    # a .py file: the file's line, no cell
    _, notes = parse_cell(2, "x = (\n", file_line=40)
    assert notes[0].startswith("line 40: syntax error")
    assert broken_cell(notes[0]) is not None


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`grade run` once on dave's demo notebook and bob's sigmoid-sign notebook: the out
    folder."""
    tmp = tmp_path_factory.mktemp("graded")
    (tmp / "subs" / "dave").mkdir(parents=True)
    (tmp / "subs" / "dave" / "activations.ipynb").write_bytes(DAVE.read_bytes())
    sigmoid_notebook(tmp / "subs" / "bob" / "activations.ipynb")
    done = subprocess.run([*GRADE, "run", str(tmp / "subs"), "--out", str(tmp / "out"),
                           "--assignment", "activations"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return tmp / "out"


def test_dave_reads_where_his_syntax_error_is_in_every_output(graded: Path) -> None:
    """`grade` on dave's notebook: feedback.md, feedback.html and results.json all name code
    cell 6 (the one defining softmax), line 1, and quote the line with its caret."""
    folder = graded / "dave" / "activations"
    place = "code cell 6 (the one defining softmax), line 1"
    quote = "    def softmax(z)\n                  ^"
    md = (folder / "feedback.md").read_text()
    assert f"softmax was never defined: {place} has a syntax error (expected ':')" in md
    assert quote in md
    assert md.count("def softmax(z)") == 1  # told once: the note is not repeated
    html = (folder / "feedback.html").read_text()
    assert place in html and quote in html
    document = json.loads((folder / "results.json").read_text())
    softmax = [t for t in document["tests"] if t["extra_data"]["id"].startswith("test_softmax")]
    assert softmax and all(place in t["output"] and quote in t["output"] for t in softmax)
    assert "Cell 12" not in md + html + json.dumps(document)


# -- 2. one engine, the same words everywhere -----------------------------------------------


def _test(name: str, status: str, message: str = "", points: float = 2.0) -> TestResult:
    return TestResult(name, name.removeprefix("test_").replace("__", ": "), status,
                      points if status == PASSED else 0.0, points, message)


def test_a_title_never_says_failed_for_another_failure_than_it_names() -> None:
    wrong_values = _test("test_sigmoid__input_not_modified", FAILED,
                         "sigmoid(x): 15 of 15 values are wrong (tolerance: rtol=1e-05).\n"
                         f"  got ...\nHint: {SIGMOID_CAUSE}")
    assert verdict(wrong_values) == ("failed: sigmoid(x): 15 of 15 values are wrong "
                                     "(tolerance: rtol=1e-05).")
    assert verdict(_test("test_relu__values", PASSED)) == "passed"


def test_a_long_failure_line_is_cut_between_words_and_not_said_twice() -> None:
    from grader.core.feedback import VERDICT_CHARS, detail

    line = ("backward(params, cache, y)[0][0] (dW of layer 1; 3 -> 4 -> 3 -> 1 network, batch "
            "of 6, zero biases, some rows of x = 0): 9 of 12 values are wrong (tolerance: "
            "rtol=1e-06, atol=1e-09).")
    assert len(line) > VERDICT_CHARS
    test = _test("test_backward__relu_at_zero", FAILED, f"{line}\n  expected at index (0, 0): 1")
    said = verdict(test)
    assert said.endswith(" …") and len(said) < len("failed: ") + VERDICT_CHARS + 2
    head = said.removeprefix("failed: ").removesuffix(" …")
    assert line.startswith(head) and line[len(head)] == " "  # cut between two words
    rest = detail(test, "")
    assert rest.startswith("… ") and head not in rest  # the block carries on, nothing twice
    assert f"{head} {rest.splitlines()[0].removeprefix('… ')}" == line
    assert rest.splitlines()[1] == "  expected at index (0, 0): 1"


def test_unattempted_functions_fold_into_one_line() -> None:
    tests = [_test("test_relu__values", PASSED),
             _test("test_sigmoid__values", FAILED, f"sigmoid(x): wrong\nHint: {SIGMOID_CAUSE}"),
             *(_test(f"test_{f}__values", NOT_ATTEMPTED, "Not attempted: ...")
               for f in ("tanh", "elu", "softmax"))]
    explanation = explain(tests)
    text = plain_text(explanation)
    assert text.count("Not attempted") == 1
    assert ("Not attempted yet: tanh, elu, softmax (each still raises NotImplementedError; "
            "6 points).") in text
    assert f"FAILED sigmoid (-2 of 2 points): {SIGMOID_CAUSE}" in text


def test_the_self_check_import_is_ignored_when_grading(tmp_path: Path) -> None:
    path = sigmoid_notebook(tmp_path / "activations.ipynb")
    module = extract_module(read_cells(path), ["relu", "sigmoid"])
    assert not any("selfcheck" in s for s in module.statements)


def test_public_hints_are_the_hidden_suites_words() -> None:
    public = _load(ROOT / "assignments" / "activations" / "public" /
                   "test_activations_public.py", "public_activations")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the suite's own marks, registered when grading
        hidden = _load(ROOT / "solutions" / "hidden" / "test_activations.py", "hidden")
    kept = {f: h for f, h in hidden.VALUE_HINTS.items()
            if f not in ("sigmoid_grad", "tanh_grad")}  # those two quote a solution line
    assert kept == public.HINTS


def _hidden(assignment: str):  # noqa: ANN202 - a test module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the suite's own marks, registered when grading
        return _load(ROOT / "solutions" / "hidden" / f"test_{assignment}.py",
                     f"hidden_{assignment}")


def _public(assignment: str):  # noqa: ANN202 - a test module
    return _load(ROOT / "assignments" / assignment / "public" / f"test_{assignment}_public.py",
                 f"public_{assignment}")


#: A common mistake per assignment, planted in the reference: (function, {text replaced: its
#: replacement}, the name of the hidden suite's hint for it). train_model's epoch loss is the
#: plain mean of the batch losses.
PLANTED = {
    "forward": ("forward", {"a = z if is_output_layer else f(z)": "a = f(z)"},
                "ACTIVATED_OUTPUT_HINT"),
    "backprop": ("backward", {"delta = (y_hat - y) / N": "delta = (y - y_hat) / N"},
                 "SIGN_HINT"),
    "training": ("train_model", {"total += loss.item() * len(batch_x)": "total += loss.item()",
                                 "losses.append(total / n)":
                                 "losses.append(total / -(-n // batch_size))"},
                 "LOSS_AGGREGATE_HINTS"),
}


def test_public_hints_of_the_numpy_and_torch_assignments_are_the_hidden_suites() -> None:
    forward, backprop, training = (_hidden(a) for a in ("forward", "backprop", "training"))
    assert _public("forward").HINTS == {"activated output": forward.ACTIVATED_OUTPUT_HINT}
    assert _public("backprop").HINTS == {"sign": backprop.SIGN_HINT}
    assert _public("training").HINTS == training.LOSS_AGGREGATE_HINTS


def _code(line: str) -> str:
    """A solution line without its trailing comment (a hint quoting the code alone is still
    the solution's code)."""
    return line.split("  #")[0].strip()


def test_public_hints_quote_no_solution_code() -> None:
    """No public hint holds a line of a reference's solution, even without its comment (the
    release leak scan matches whole lines, comments included; this is stricter)."""
    for assignment in ("activations", "forward", "backprop", "training"):
        inside, shown = solution_lines(ROOT / "solutions" / f"{assignment}.ipynb")
        code = {_code(line) for line in inside if line not in shown}
        code = {line for line in code if len(line) >= MIN_LINE and line not in shown}
        for hint in _public(assignment).HINTS.values():
            assert not [line for line in code if line in hint], (assignment, hint)


def planted_notebook(assignment: str, target: Path) -> Path:
    """The stub filled with the reference's solutions, one common mistake planted."""
    _, replace, _ = PLANTED[assignment]
    target.parent.mkdir(parents=True, exist_ok=True)
    reference = (ROOT / "solutions" / f"{assignment}.ipynb").read_text()
    assert all(old in reference for old in replace)
    return fill_stub(ROOT / "assignments" / assignment / f"{assignment}.ipynb",
                     ROOT / "solutions" / f"{assignment}.ipynb", target, replace)


@pytest.mark.slow  # grades three notebooks and runs three self-checks (~1 min here)
@pytest.mark.parametrize("assignment", sorted(PLANTED))
def test_a_planted_mistake_reads_the_same_in_the_self_check_and_the_grade(
        assignment: str, tmp_path: Path) -> None:
    """The same cause line for one mistake: `python -m selfcheck` (the public tests) and
    feedback.md (the hidden suite)."""
    function, _, name = PLANTED[assignment]
    hints = getattr(_hidden(assignment), name)
    planted_notebook(assignment, tmp_path / "subs" / "eve" / f"{assignment}.ipynb")
    done = subprocess.run([*GRADE, "run", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                           "--assignment", assignment], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "out" / "eve" / assignment / "feedback.md").read_text().replace("\\", "")
    bundle = make_bundle(tmp_path / "bundle", assignment)
    planted_notebook(assignment, bundle / assignment / f"{assignment}.ipynb")
    checked = bundle_python(bundle, "selfcheck")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    said = [h for h in (hints.values() if isinstance(hints, dict) else [hints])
            if f"FAILED {function}: {h}" in checked.stdout]
    assert len(said) == 1, checked.stdout
    assert f"**{said[0]}**" in md, md


@pytest.fixture(scope="module")
def graded_bob(graded: Path) -> Path:
    return graded / "bob" / "activations"


def test_bob_reads_the_cause_line_in_feedback_and_results_json(graded_bob: Path) -> None:
    md = (graded_bob / "feedback.md").read_text()
    assert f"**{SIGMOID_CAUSE}**" in md.replace("\\", "")
    assert "An import failed" not in md and "selfcheck" not in md
    assert md.count("Not attempted yet:") == 1
    assert "the input array is left unchanged: failed: sigmoid(x): 15 of 15 values" in md
    document = json.loads((graded_bob / "results.json").read_text())
    sigmoid = [t for t in document["tests"] if t["extra_data"]["id"].startswith("test_sigmoid__")]
    assert sigmoid and all(t["output"].startswith(SIGMOID_CAUSE) for t in sigmoid)
    assert "An import failed" not in document["output"]


@pytest.mark.slow  # a student bundle and a notebook kernel
def test_bob_reads_the_same_cause_line_in_the_self_check(tmp_path: Path) -> None:
    """`python -m selfcheck` (exit 1: a check failed) and check() in a real kernel, Run All
    going through the stub's own cells and the self-check cell."""
    nbclient = pytest.importorskip("nbclient")
    release = _load(ROOT / "tests" / "test_release.py", "release_helpers")
    bundle = release.make_bundle(tmp_path / "bundle", "activations")
    notebook = sigmoid_notebook(bundle / "activations" / "activations.ipynb")
    done = release.bundle_python(bundle, "selfcheck")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FAILED sigmoid: {SIGMOID_CAUSE}" in done.stdout
    assert done.stdout.count("Not attempted yet:") == 1
    assert "Not attempted yet: relu_grad, sigmoid_grad, tanh" in done.stdout
    # Restart & Run All in a real kernel: the stub's "Checking your work" cell meets seven
    # unfinished functions and the self-check cell an unknown name; neither stops the run
    # (nbclient raises CellExecutionError on the first cell that raises)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('check("no_such_function")\nprint("GOES ON")'))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()
    outputs = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in nb.cells
               if c.cell_type == "code"]
    assert "A function above is not written yet" in outputs[-3]  # "Checking your work"
    checked = outputs[-2]
    assert f"FAILED sigmoid: {SIGMOID_CAUSE}" in checked, checked
    assert checked.count("Not attempted yet:") == 1
    assert "the self-check could not run" in outputs[-1] and "GOES ON" in outputs[-1]
