"""Reading submissions (grader.extract.read): notebooks as saved, .py files, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from helpers.notebook_files import write_notebook

from grader.core.errors import ExtractionError
from grader.extract import Cell, notebook_assignment, read_cells

# -- reading -------------------------------------------------------------------------------------


def test_read_notebook_code_cells_with_counts_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("import numpy as np", execution_count=3),
        nbformat.v4.new_code_cell("x = 1"),
    ]
    nbformat.write(notebook, str(path))
    # numbered among code cells, as a student counts them (the markdown cell is not counted)
    assert read_cells(path) == [Cell(1, "import numpy as np", 3), Cell(2, "x = 1", None)]


def test_read_tolerates_stripped_metadata_and_list_sources(tmp_path: Path) -> None:
    raw = {
        "cells": [
            {"cell_type": "code", "source": ["def f():\n", "    return 1\n"]},
            {"cell_type": "code", "source": "y = 2", "execution_count": "7"},
            {"cell_type": "raw", "source": "ignored"},
        ],
        "nbformat": 4,
        "nbformat_minor": 2,
    }
    path = tmp_path / "stripped.ipynb"
    path.write_text(json.dumps(raw))
    cells = read_cells(path)
    assert [c.source for c in cells] == ["def f():\n    return 1\n", "y = 2"]
    assert [c.execution_count for c in cells] == [None, None]


def test_read_notebook_without_nbformat_keys_falls_back_to_raw_json(tmp_path: Path) -> None:
    path = tmp_path / "bare.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "z = 3"}]}))
    assert [c.source for c in read_cells(path)] == ["z = 3"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b'{\n "cells": [\n  oops\n]}', "not a Jupyter notebook (invalid JSON at line 3)"),
        (b"[1, 2, 3]", "not a Jupyter notebook (no list of cells in the JSON)"),
        (b'{"metadata": {}}', "not a Jupyter notebook (no list of cells in the JSON)"),
        (b"PK\x03\x04\x00\x00garbage", "not a text file (binary data)"),
        (b"\xff\xfe\xfa invalid utf8", "not a text file (not UTF-8 at byte 0)"),
    ],
)
def test_unreadable_notebooks_raise_one_line_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "Backprop (1).ipynb"
    path.write_bytes(content)
    with pytest.raises(ExtractionError) as caught:
        read_cells(path)
    assert str(caught.value) == f"Backprop (1).ipynb: {problem}"
    assert "\n" not in str(caught.value)


def test_missing_file_raises_extraction_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match=r"^gone\.ipynb: cannot be read"):
        read_cells(tmp_path / "gone.ipynb")


def test_py_file_split_at_percent_markers(tmp_path: Path) -> None:
    path = tmp_path / "sub.py"
    path.write_text("import numpy as np\n# %%\nx = 1\n# %% [markdown]\n# prose\n#%%\ny = 2\n")
    cells = read_cells(path)
    assert [c.source.strip() for c in cells] == ["import numpy as np", "x = 1", "y = 2"]
    assert [c.index for c in cells] == [1, 2, 4]


def test_py_file_without_markers_is_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "sub.py"
    path.write_text("a = 1\n\nb = 2\n")
    assert read_cells(path) == [Cell(1, "a = 1\n\nb = 2", None)]


def test_notebook_assignment_from_metadata(tmp_path: Path) -> None:
    tagged = write_notebook(
        tmp_path / "a.ipynb", "x = 1", metadata={"grader": {"assignment": "forward"}}
    )
    plain = write_notebook(tmp_path / "b.ipynb", "x = 1")
    corrupt = tmp_path / "c.ipynb"
    corrupt.write_text("{not json")
    script = tmp_path / "forward.py"
    script.write_text("x = 1")
    assert notebook_assignment(tagged) == "forward"
    assert notebook_assignment(plain) is None
    assert notebook_assignment(corrupt) is None
    assert notebook_assignment(script) is None
    assert notebook_assignment(tmp_path / "missing.ipynb") is None


