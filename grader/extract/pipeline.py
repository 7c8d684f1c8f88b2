"""From cells to a module the worker can import: the extraction pipeline.

Like nbgrader's preprocessors, extraction is a chain of small pure functions over plain data,
each one step of the contract ("a notebook is graded from its code, whatever happened to its
cells"); :func:`extract_module` only composes them:

    strip_magics      IPython syntax out: line magics, ``!shell``, ``obj?``, non-Python cells
    parse_cell        ``ast`` per cell; a syntax error costs only the broken top-level chunk
                      (both in :mod:`grader.extract.parse`)
    describe          each top-level statement: its kind and the names it binds and reads
                      (:mod:`grader.extract.statements`)
    resolve_duplicates  one winner per name: never an unfinished stub, else the last one run
                      (:mod:`grader.extract.duplicates`)
    select_needed     defs, classes, imports, and only the assignments something uses
    order_statements  imports first, then dependency order (stable, cycles keep cell order)
                      (both in :mod:`grader.extract.order`)

Nothing here executes student code. Name analysis (:mod:`grader.extract.names`) is static and
deliberately approximate: a statement's *early* names are
read when it runs at module level (decorators, defaults, class bases and bodies, right-hand
sides), its *late* names only when the functions it defines are called. Early names order
statements; early and late names together decide which assignments are needed, so a 10-minute
``losses = train(...)`` demo line is dropped while ``ACTIVATIONS = {"relu": relu}`` is kept
when a function uses it. Each step adds short notes for the student's feedback.

Every step is linear (or n log n) in the number of statements, and a submission holds at
most :data:`MAX_STATEMENTS` top-level statements (an ExtractionError beyond) and gets at most
:data:`MAX_NOTES` notes, so no notebook makes extraction slow or its feedback huge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.extract.duplicates import resolve_duplicates
from grader.extract.order import order_statements, select_needed
from grader.extract.parse import MAX_STATEMENTS, cell_magic, parse_cell, place, strip_magics
from grader.extract.read import Cell
from grader.extract.statements import Statement, describe

#: Notes per submission.
MAX_NOTES = 40


@dataclass(frozen=True)
class StudentModule:
    """The code that is graded: top-level statements in an order in which they can run."""

    statements: tuple[str, ...]
    defined: tuple[str, ...]
    notes: tuple[str, ...]
    #: Where each statement starts in what the student handed in: (cell, line in the cell) of
    #: a notebook, (0, line in the file) of a .py file (grader.extract.origins).
    origins: tuple[tuple[int, int], ...] = ()

    @property
    def source(self) -> str:
        return "\n\n".join(self.statements)


def extract_module(cells: list[Cell], required: Sequence[str]) -> StudentModule:
    """The graded module of a submission's cells; ``required`` names are kept even if unused."""
    notes: list[str] = []
    statements: list[Statement] = []
    for cell in cells:
        source = strip_magics(cell.source)
        magic = cell_magic(cell.source)
        if magic is not None and not source:
            notes.append(f"{place(cell.index, None, cell.file_line)}: %%{magic} cell is not "
                         "Python; it was skipped")
        parsed, cell_notes = parse_cell(cell.index, source, MAX_STATEMENTS - len(statements),
                                        cell.file_line)
        notes.extend(cell_notes)
        for node, text in parsed:
            statements.append(describe(cell, len(statements), node, text))
    winners, duplicate_notes = resolve_duplicates(statements)
    kept, dropped_notes = select_needed(winners, required)
    ordered = order_statements(kept)
    defined = dict.fromkeys(name for s in ordered for name in sorted(s.binds))
    # a duplicate matters to the student only when grading keeps that name
    notes.extend(note for name, note in duplicate_notes if name in defined)
    notes.extend(dropped_notes)
    return StudentModule(tuple(s.text for s in ordered), tuple(defined), _capped(notes),
                         tuple(origin(s) for s in ordered))


def origin(statement: Statement) -> tuple[int, int]:
    """(cell, first line in the cell), or (0, line in the file) for a .py file's cell."""
    node = statement.node
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    cell = statement.cell
    if cell.file_line is not None:
        return 0, cell.file_line + first - 1
    return cell.index, first


def _capped(notes: list[str]) -> tuple[str, ...]:
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    return (*notes[:MAX_NOTES - 1], f"... and {len(notes) - MAX_NOTES + 1} more notes")
