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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Code:
    """A submission's graded code in canonical order, and where each statement came from:
    ``places[k]`` is (first line of statement k in ``text``, 0-based; its code cell, 1-based
    among code cells as Jupyter numbers them after Restart & Run All, 0 in a .py file; its
    first line in that cell, or in the .py file)."""

    text: str
    places: tuple[tuple[int, int, int], ...] = ()


def graded_code(cells: list[Cell]) -> str:
    """The statements grading keeps, imports left out, in canonical order, one blank line
    apart."""
    return _canonical(extract_module(cells, ()).statements).text


def _canonical(statements: tuple[str, ...], origins: tuple[tuple[int, int], ...] = ()) -> Code:
    found = origins if len(origins) == len(statements) else ((0, 0),) * len(statements)
    kept = sorted(((s, o) for s, o in zip(statements, found, strict=True)
                   if not _IMPORT.match(s)), key=lambda item: order_key(item[0]))
    places, line = [], 0
    for statement, (cell, first) in kept:
        places.append((line, cell, first))
        line += statement.count("\n") + 2
    return Code("\n\n".join(s for s, _ in kept), tuple(places))


def submission_code(path: Path, limits: ReadLimits | None = None) -> str:
    """:func:`graded_code` of a notebook or ``.py`` file (ExtractionError if unreadable), read
    and extracted as grading does (a child process under ``limits``)."""
    return submission(path, limits).text


def submission(path: Path, limits: ReadLimits | None = None) -> Code:
    """:func:`submission_code` with each statement's place in the notebook."""
    found = extract_file(path, (), limits or ReadLimits())
    if found.module is None:
        raise ExtractionError(found.error or f"{path.name}: cannot be read")
    return _canonical(found.module.statements, found.module.origins)


def line_key(line: str) -> str:
    """A line as the discounting compares it: comment and surrounding space gone, inner space
    collapsed (names kept: a line is common when many write it as it is)."""
    return " ".join(_COMMENT.sub("", line).split()) if "#" in line else " ".join(line.split())


def given_lines(assignment: Assignment, texts: list[str]) -> tuple[frozenset[str], re.Pattern[str]]:
    """What every student was handed, line by line (the :func:`line_key` of each line of the
    boilerplate ``texts``), and a pattern for the signature of a contract function (``def
    relu(...)``: the name is given, whatever the parameters are called)."""
    lines = frozenset(key for text in texts for key in map(line_key, text.splitlines()) if key)
    names = "|".join(re.escape(name) for name in assignment.functions) or r"(?!)"
    return lines, re.compile(rf"^\s*(?:async\s+)?def\s+(?:{names})\s*\(")


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
