"""What is compared: a submission's graded code, in an order that no cell layout changes.

Each submission goes through the grader's own extraction (``extract_file``: ``read_cells`` then
``extract_module`` in a child process under the read limits, as grading reads it), so the code
compared is the code graded: demo cells, plots and training
loops are already gone, a stub definition left beside the student's own is already ignored,
and magics never reach the tokenizer. Imports are left out (everyone imports the same
modules). The remaining top-level statements are sorted by a normalised form of their text
(identifiers, strings, comments and whitespace blanked out), so two notebooks holding the same
functions give the same text whatever their cell order, splits or merges.

The boilerplate is what every student was given: the stub notebook's cells (as released, and
as extracted, in the same canonical order) and the public tests' code.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

import nbformat

from grader.core.course import Assignment
from grader.core.errors import CourseError, ExtractionError
from grader.extract.isolate import ReadLimits, extract_file
from grader.extract.pipeline import extract_module
from grader.extract.read import Cell, read_cells
from grader.extract.stub import stub_text

_STRING = re.compile(r'(?s)""".*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
_COMMENT = re.compile(r"#[^\n]*")
_NAME = re.compile(r"[A-Za-z_]\w*")
_SPACE = re.compile(r"\s+")
_IMPORT = re.compile(r"(?:import|from)\s")


def graded_code(cells: list[Cell]) -> str:
    """The statements grading keeps, imports left out, in canonical order, one blank line
    apart."""
    return _canonical(extract_module(cells, ()).statements)


def _canonical(statements: tuple[str, ...]) -> str:
    kept = [s for s in statements if not _IMPORT.match(s)]
    return "\n\n".join(sorted(kept, key=order_key))


def submission_code(path: Path, limits: ReadLimits | None = None) -> str:
    """:func:`graded_code` of a notebook or ``.py`` file (ExtractionError if unreadable), read
    and extracted as grading does (a child process under ``limits``)."""
    found = extract_file(path, (), limits or ReadLimits())
    if found.module is None:
        raise ExtractionError(found.error or f"{path.name}: cannot be read")
    return _canonical(found.module.statements)


def order_key(statement: str) -> tuple[str, str]:
    """Sort key invariant under renaming, re-commenting, docstrings and layout."""
    text = _COMMENT.sub("", _STRING.sub("S", statement))
    shape = _NAME.sub(lambda m: m.group() if keyword.iskeyword(m.group()) else "V", text)
    return _SPACE.sub("", shape), statement


def boilerplate_texts(assignment: Assignment) -> list[str]:
    """Code every student was handed for ``assignment``: the stub's cells, the stub as
    extracted, and each public test file."""
    cells = _stub_cells(assignment)
    texts = [cell.source for cell in cells]
    texts.append(graded_code(cells))
    if assignment.public_dir.is_dir():
        for path in sorted(assignment.public_dir.rglob("*.py")):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return [text for text in texts if text.strip()]


def _stub_cells(assignment: Assignment) -> list[Cell]:
    """The stub's code cells: generated from the reference as ``grade release`` ships it, else
    the committed stub."""
    if assignment.reference.is_file():
        notebook = nbformat.reads(stub_text(assignment.reference, assignment.id), as_version=4)
        return [Cell(index=i, source=c.source, execution_count=None)
                for i, c in enumerate(notebook.cells, start=1) if c.cell_type == "code"]
    if assignment.stub.is_file():
        return read_cells(assignment.stub)
    raise CourseError(f"{assignment.folder}: no stub ({assignment.stub.name}) and no reference "
                      f"({assignment.reference}) to say what students were given")
