"""Similarity's boilerplate discounting (what the stub gives, contract signatures, lines most of
the class writes do not count as shared) and its notebook-order view (code cells numbered as
Jupyter numbers them). The class-sized before/after measure is in tests/test_similarity.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.core.course import DEFAULT_ROOT, load_course

pytest.importorskip("copydetect")

from grader.similarity.analyse import (  # noqa: E402 - needs copydetect
    MIN_COMMON,
    AssignmentJob,
    ReadFile,
    analyse,
    given_per_file,
)
from grader.similarity.code import Code, boilerplate_texts  # noqa: E402
from grader.similarity.fingerprint import fingerprint, overlap  # noqa: E402

ACTIVATIONS = load_course(DEFAULT_ROOT).get("activations")
COMMON = "    x = np.asarray(x, dtype=float)"


def test_kgrams_mostly_on_given_lines_are_not_shared() -> None:
    head = f"def relu(x):\n{COMMON}\n    n = x.shape[0]\n"
    a = head + "    return np.maximum(x, 0.0).reshape(n, -1)\n"
    b = head + "    out = x.copy()\n    out[out < 0] = 0\n    return out\n"
    assert overlap(fingerprint(a, frozenset()), fingerprint(b, frozenset())).share_a > 0.3
    given = frozenset({0, 1, 2})  # the signature and the lines everyone writes
    found = overlap(fingerprint(a, frozenset(), given=given), fingerprint(b, frozenset(),
                                                                          given=given))
    assert found.share_a == found.share_b == 0.0
    # the student's own lines still count: a copy of them is found with the given lines gone
    copy = fingerprint(a.replace("x", "z"), frozenset(), given=given)
    assert overlap(fingerprint(a, frozenset(), given=given), copy).share_a == 1.0


def test_given_lines_are_the_stubs_the_contracts_signatures_and_the_class_common_ones() -> None:
    texts = boilerplate_texts(ACTIVATIONS)
    stub_line = next(line for text in texts for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith(("def ", "#")))
    students = MIN_COMMON + 2
    read = []
    for i in range(students):
        mine = [f"def relu(v{i}, alpha=0):",  # a contract function, its parameters renamed
                COMMON if i < students - 1 else "    x = x",  # all but one write it
                f"    return v{i} * {i}  # own",
                f"def helper_{i}(y):",  # not in the contract
                "    return y + 1" if i < 3 else f"    return y - {i}",  # three write it
                "  " + stub_line.strip() if i == 0 else f"    y = {i}"]
        text = "\n".join(mine)
        read.append(ReadFile(f"s{i}", f"s{i}/a.py", text, Code(text)))
    job = AssignmentJob(ACTIVATIONS, (), 5)
    given = given_per_file(job, texts, read)
    assert given[("s0", "s0/a.py")] == {0, 1, 5}  # signature, common line, the stub's line
    assert given[("s1", "s1/a.py")] == {0, 1}  # "return y + 1": 3 students, not common
    assert given[(f"s{students - 1}", f"s{students - 1}/a.py")] == {0}


def _notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    made = [nbformat.v4.new_code_cell(src) if kind == "code" else
            nbformat.v4.new_markdown_cell(src) for kind, src in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=made), path)
    return path


def test_a_pair_is_shown_in_notebook_order_with_code_cell_numbers(tmp_path: Path) -> None:
    softmax = ("def softmax(z):\n    shifted = z - z.max(axis=-1, keepdims=True)\n"
               "    e = np.exp(shifted)\n    return e / e.sum(axis=-1, keepdims=True)\n")
    tanh = "def tanh(x):\n    return 2 * sigmoid(2 * np.asarray(x)) - 1\n"
    sigmoid = ("def sigmoid(x):\n    e = np.exp(-np.abs(x))\n"
               "    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n")
    ann = _notebook(tmp_path / "ann" / "activations.ipynb", [
        ("markdown", "# Activations"), ("code", "import numpy as np"),
        ("code", softmax), ("markdown", "Now tanh."),
        ("code", "# mine\n\n" + tanh + "\n" + sigmoid)])
    ben = _notebook(tmp_path / "ben" / "activations.ipynb", [
        ("code", "import numpy as np\n" + sigmoid), ("code", tanh), ("code", softmax)])
    result = analyse(AssignmentJob(ACTIVATIONS, (("ann", ann, "ann/a.ipynb"),
                                                 ("ben", ben, "ben/a.ipynb")), 1))
    (shown,) = result.shown
    blocks = {side.student: side.blocks for side in (shown.a, shown.b)}
    assert [b.cell for b in blocks["ann"]] == [2, 3]  # code cells 2 and 3 (markdown not counted)
    first = ["".join(t for t, _ in line) for line in blocks["ann"][1].lines]
    assert first[0] == "def tanh(x):" and blocks["ann"][1].numbers[0] == 3  # line 3 of cell 3
    assert "def sigmoid(x):" in first and blocks["ann"][1].numbers[first.index(
        "def sigmoid(x):")] == 6
    assert [b.cell for b in blocks["ben"]] == [1, 2, 3]
    assert blocks["ben"][0].numbers[0] == 2  # after the import on line 1
    assert ["".join(t for t, _ in line) for line in shown.b.lines][0] == "def sigmoid(x):"
