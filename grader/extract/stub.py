"""Generating the student stub from the reference notebook, the single source of truth.

The reference solution (``solutions/<id>.ipynb``) marks what students write, nbgrader-style:

    def double(x):
        \"\"\"2 x.\"\"\"
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION

becomes, in the stub, at the marker's indentation::

        # YOUR CODE HERE
        raise NotImplementedError

A written question's answer cell (``"grader": {"answer": ...}`` metadata, markdown or code:
grader.extract.written) keeps its marker line; its SOLUTION region becomes ``YOUR ANSWER HERE``.
A cell whose whole source is one ``### BEGIN HIDDEN`` ... ``### END HIDDEN`` region is for the
instructor only and is removed. The stub is normalised so that generating it twice gives the
same bytes (a test compares it with the committed stub): outputs and execution counts are
cleared, cell ids are ``cell-1``, ``cell-2``..., the notebook metadata is reduced to the
kernelspec, the language and ``metadata["grader"]["assignment"]`` (how discovery recognises a
renamed notebook).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from grader.core.errors import CourseError

_MARKER = re.compile(r"^(\s*)### (BEGIN|END) (SOLUTION|HIDDEN)\s*$")
_CODE_PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError")
_DEFAULT_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
#: Cell metadata that only records a past run (Jupyter, JupyterLab, papermill).
_RUN_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "papermill")


def make_stub(
    reference: nbformat.NotebookNode, assignment_id: str, *, origin: str = "reference"
) -> nbformat.NotebookNode:
    """The student notebook for ``reference``; ``origin`` names it in CourseError messages."""
    stub = copy.deepcopy(reference)
    cells = []
    for number, cell in enumerate(stub.cells, start=1):
        where = f"{origin}: cell {number}"
        source = _source_text(cell.get("source", ""))
        if _is_hidden(source, where):
            continue
        if _is_answer(cell):
            cell.source = replace_solutions(source, where, _answer_placeholder(cell))
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        elif cell.cell_type == "code":
            cell.source = replace_solutions(source, where)
            cell.outputs = []
            cell.execution_count = None
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        _hide_rubric(cell)
        cell.id = f"cell-{len(cells) + 1}"
        cells.append(cell)
    stub.cells = cells
    stub.nbformat, stub.nbformat_minor = 4, max(int(stub.get("nbformat_minor", 5)), 5)
    stub.metadata = _stub_metadata(reference.get("metadata", {}), assignment_id)
    return stub


def replace_solutions(source: str, where: str = "reference",
                      placeholder: tuple[str, ...] | None = None) -> str:
    """Each SOLUTION region replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError``
    (or by the lines of ``placeholder``: a written answer's)."""
    out: list[str] = []
    indent: str | None = None
    for line in source.split("\n"):
        marker = _MARKER.match(line)
        if marker is None or marker.group(3) != "SOLUTION":
            if indent is None:
                out.append(line)
            continue
        if marker.group(2) == "BEGIN":
            if indent is not None:
                raise CourseError(f"{where}: BEGIN SOLUTION inside another SOLUTION region")
            indent = marker.group(1)
            out += [indent + line for line in (placeholder or _CODE_PLACEHOLDER)]
        elif indent is None:
            raise CourseError(f"{where}: END SOLUTION without BEGIN SOLUTION")
        else:
            indent = None
    if indent is not None:
        raise CourseError(f"{where}: BEGIN SOLUTION without END SOLUTION")
    return "\n".join(out)


def strip_markers(source: str) -> str:
    """The reference code without its SOLUTION and HIDDEN marker lines."""
    return "\n".join(line for line in source.split("\n") if not _MARKER.match(line))


def stub_text(reference_path: Path, assignment_id: str) -> str:
    """The stub notebook of the reference at ``reference_path``, as the bytes to commit."""
    try:
        reference = nbformat.read(str(reference_path), as_version=4)
    except Exception as exc:  # OSError, invalid JSON, not a notebook: all a broken course file
        raise CourseError(f"{reference_path}: cannot read the reference notebook: {exc}") from exc
    stub = make_stub(reference, assignment_id, origin=str(reference_path))
    return nbformat.writes(stub) + "\n"


def _hide_rubric(cell: nbformat.NotebookNode) -> None:
    """A written question keeps its id and points in the stub; its rubric is the TAs'."""
    grader = cell.get("metadata", {}).get("grader")
    question = grader.get("question") if isinstance(grader, dict) else None
    if isinstance(question, dict):
        grader["question"] = {k: v for k, v in question.items() if k in ("id", "points")}


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    """A written question's answer cell (grader.extract.written): ``grader.answer`` metadata."""
    grader = cell.get("metadata", {}).get("grader")
    return isinstance(grader, dict) and isinstance(grader.get("answer"), str)


def _answer_placeholder(cell: nbformat.NotebookNode) -> tuple[str, ...]:
    return ("# YOUR ANSWER HERE",) if cell.cell_type == "code" else ("YOUR ANSWER HERE",)


def _source_text(source: object) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _is_hidden(source: str, where: str) -> bool:
    """Whether the cell is one HIDDEN region; HIDDEN markers anywhere else are an error."""
    markers = [m for m in map(_MARKER.match, source.split("\n")) if m and m.group(3) == "HIDDEN"]
    if not markers:
        return False
    lines = source.strip().split("\n")
    first, last = _MARKER.match(lines[0]), _MARKER.match(lines[-1])
    whole = (
        len(markers) == 2
        and len(lines) >= 2
        and first is not None
        and first.group(2, 3) == ("BEGIN", "HIDDEN")
        and last is not None
        and last.group(2, 3) == ("END", "HIDDEN")
    )
    if not whole:
        raise CourseError(f"{where}: BEGIN HIDDEN ... END HIDDEN must enclose the whole cell")
    return True


def _stub_metadata(metadata: dict[str, object], assignment_id: str) -> nbformat.NotebookNode:
    kernelspec = metadata.get("kernelspec")
    if not isinstance(kernelspec, dict) or kernelspec.get("name") != "python3":
        kernelspec = _DEFAULT_KERNELSPEC
    return nbformat.from_dict(
        {
            "kernelspec": dict(kernelspec),
            "language_info": {"name": "python"},
            "grader": {"assignment": assignment_id},
        }
    )
