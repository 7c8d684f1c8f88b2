"""Notebooks in, gradable code out; and the student stub out of the reference notebook.

The extraction pipeline is a chain of small pure functions over plain data (nbgrader's
preprocessor style, without mode flags)::

    read_cells(path)                      -> [Cell]           read.py
    extract_module(cells, required)       -> StudentModule    extract.py (names.py: name analysis)

``make_stub`` / ``stub_text`` (stub.py) turn the reference solution into the student notebook.
"""

from grader.extract.pipeline import StudentModule, extract_module
from grader.extract.read import Cell, notebook_assignment, read_cells
from grader.extract.stub import make_stub, strip_markers, stub_text

__all__ = [
    "Cell",
    "StudentModule",
    "extract_module",
    "make_stub",
    "notebook_assignment",
    "read_cells",
    "strip_markers",
    "stub_text",
]
