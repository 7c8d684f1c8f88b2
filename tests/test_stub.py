"""Generating the student stub from the reference notebook (grader.extract.stub)."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.core.errors import CourseError
from grader.extract import (
    Cell,
    extract_module,
    make_stub,
    notebook_assignment,
    strip_markers,
    stub_text,
)
from grader.extract.read import read_cells

RELU_REFERENCE = '''\
import numpy as np

def relu(x):
    """max(0, x)."""
    ### BEGIN SOLUTION
    return np.maximum(0, x)
    ### END SOLUTION

def relu_grad(x):
    ### BEGIN SOLUTION
    out = (x > 0)
    return out.astype(float)
    ### END SOLUTION'''

HIDDEN = "### BEGIN HIDDEN\nSECRET_CHECK = 42\n### END HIDDEN"


def reference_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"},
        "widgets": {"state": {}},
    }
    code = nbformat.v4.new_code_cell(RELU_REFERENCE, execution_count=4)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    code.metadata["ExecuteTime"] = {"end_time": "2024-01-01"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Activations"),
        code,
        nbformat.v4.new_code_cell(HIDDEN, execution_count=5),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nGLOBAL = 1\n### END SOLUTION"),
    ]
    return notebook


def code_sources(notebook: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def test_solution_regions_become_not_implemented_at_their_indentation() -> None:
    stub = make_stub(reference_notebook(), "activations")
    first = code_sources(stub)[0]
    assert "np.maximum" not in first and "astype" not in first
    assert '    """max(0, x)."""\n    # YOUR CODE HERE\n    raise NotImplementedError\n' in first
    assert first.count("raise NotImplementedError") == 2
    assert "BEGIN SOLUTION" not in first and "END SOLUTION" not in first
    assert code_sources(stub)[1] == "# YOUR CODE HERE\nraise NotImplementedError"


def test_stub_functions_raise_not_implemented_error() -> None:
    namespace: dict[str, Any] = {}
    exec(code_sources(make_stub(reference_notebook(), "activations"))[0], namespace)
    with pytest.raises(NotImplementedError):
        namespace["relu"](1.0)


def test_hidden_cells_are_removed() -> None:
    stub = make_stub(reference_notebook(), "activations")
    assert len(stub.cells) == 3
    assert not any("SECRET_CHECK" in c.source for c in stub.cells)


def test_outputs_counts_ids_and_metadata_are_normalised() -> None:
    stub = make_stub(reference_notebook(), "activations")
    code = [c for c in stub.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert [c.id for c in stub.cells] == ["cell-1", "cell-2", "cell-3"]
    assert "ExecuteTime" not in code[0].metadata
    assert stub.metadata["grader"] == {"assignment": "activations"}
    assert stub.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in stub.metadata
    assert stub.nbformat == 4 and stub.nbformat_minor >= 5
    nbformat.validate(stub)


def test_reference_is_not_modified() -> None:
    reference = reference_notebook()
    before = copy.deepcopy(reference)
    make_stub(reference, "activations")
    assert reference == before


def test_missing_kernelspec_gets_python3() -> None:
    reference = reference_notebook()
    del reference.metadata["kernelspec"]
    assert make_stub(reference, "x").metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1", "BEGIN SOLUTION without END SOLUTION"),
        ("x = 1\n### END SOLUTION", "END SOLUTION without BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
        ("x = 1\n### BEGIN HIDDEN\ny = 2\n### END HIDDEN", "must enclose the whole cell"),
        ("### BEGIN HIDDEN\ny = 2", "must enclose the whole cell"),
    ],
)
def test_unbalanced_markers_are_course_errors(source: str, message: str) -> None:
    reference = nbformat.v4.new_notebook()
    reference.cells = [nbformat.v4.new_markdown_cell("intro"), nbformat.v4.new_code_cell(source)]
    with pytest.raises(CourseError) as caught:
        make_stub(reference, "forward")
    assert str(caught.value).startswith("reference: cell 2: ")
    assert message in str(caught.value)


def test_strip_markers_keeps_the_reference_code() -> None:
    code = strip_markers(RELU_REFERENCE)
    assert "###" not in code
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    assert namespace["relu_grad"](namespace["np"].array([-1.0, 2.0])).tolist() == [0.0, 1.0]
    assert strip_markers(HIDDEN) == "SECRET_CHECK = 42"


def test_stub_text_is_deterministic_and_valid(tmp_path: Path) -> None:
    path = tmp_path / "activations.ipynb"
    nbformat.write(reference_notebook(), str(path))
    text = stub_text(path, "activations")
    assert text == stub_text(path, "activations")
    assert text.endswith("}\n")
    stub_path = tmp_path / "stub.ipynb"
    stub_path.write_text(text)
    assert stub_text(path, "activations") == stub_path.read_text()  # byte-for-byte check
    assert notebook_assignment(stub_path) == "activations"
    for cell in read_cells(stub_path):
        ast.parse(cell.source)


def test_stub_beside_student_code_extracts_the_student_version(tmp_path: Path) -> None:
    path = tmp_path / "ref.ipynb"
    nbformat.write(reference_notebook(), str(path))
    stub_path = tmp_path / "stub.ipynb"
    stub_path.write_text(stub_text(path, "activations"))
    student = Cell(99, "def relu(x):\n    return np.maximum(0, x)", 1)
    module = extract_module([*read_cells(stub_path), student], ["relu"])
    namespace: dict[str, Any] = {}
    for statement in module.statements:
        exec(statement, namespace)
    assert namespace["relu"](-3.0) == 0.0
    with pytest.raises(NotImplementedError):
        namespace["relu_grad"](1.0)


def test_stub_text_errors_name_the_reference(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(CourseError, match="broken.ipynb: cannot read the reference notebook"):
        stub_text(broken, "x")
    unbalanced = tmp_path / "unbalanced.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1")]
    nbformat.write(notebook, str(unbalanced))
    with pytest.raises(CourseError, match=r"unbalanced\.ipynb: cell 1: BEGIN SOLUTION without END"):
        stub_text(unbalanced, "x")
