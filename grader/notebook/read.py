"""Reading a submission into plain cells: the first step of the extraction pipeline.

A submission is either a Jupyter notebook or a ``.py`` file. Both become a list of
:class:`Cell` (code cells only, in saved order), so every later step works on the same plain
data and never needs to know where the code came from.

Reading is tolerant of what students do to notebooks (stripped metadata, missing
``execution_count``, sources saved as lists of lines, old nbformat versions) and strict about
what cannot be a notebook at all: an empty file, invalid JSON, JSON that holds no cells, binary
data. Those raise :class:`~grader.errors.ExtractionError` with one line, ``"<file name>: <what
is wrong>"``, which goes into that student's feedback as it is.

A ``.py`` file is split into cells at ``# %%`` markers (the jupytext / VS Code "percent"
format); ``# %% [markdown]`` sections are skipped. Without markers the whole file is one cell.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from grader.errors import ExtractionError

#: A ``# %%`` cell marker line of the percent format, capturing what follows it.
_PERCENT_MARKER = re.compile(r"^#\s?%%(.*)$")


@dataclass(frozen=True)
class Cell:
    """One code cell.

    ``index`` is the cell's 1-based position in the saved notebook, counting markdown cells
    too, so feedback can say "cell 4" the way a student counts. ``execution_count`` is None
    when the cell never ran or the count was stripped.
    """

    index: int
    source: str
    execution_count: int | None


def read_cells(path: Path) -> list[Cell]:
    """The code cells of a ``.ipynb`` notebook or ``.py`` file, in saved order."""
    text = _read_text(path)
    if path.suffix.lower() == ".ipynb":
        return _notebook_cells(path, text)
    return _python_cells(text)


def notebook_assignment(path: Path) -> str | None:
    """The assignment id the stub stored in ``metadata["grader"]``; None when there is none."""
    if path.suffix.lower() != ".ipynb":
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    grader = raw.get("metadata", {}).get("grader") if isinstance(raw, dict) else None
    if not isinstance(grader, dict):
        return None
    assignment = grader.get("assignment")
    return assignment if isinstance(assignment, str) and assignment else None


def _fail(path: Path, problem: str) -> ExtractionError:
    return ExtractionError(f"{path.name}: {problem}")


def _read_text(path: Path) -> str:
    """The file as text; unreadable, binary or empty files raise ExtractionError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from exc
    if b"\x00" in data:
        raise _fail(path, "not a text file (binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not a text file (not UTF-8 at byte {exc.start})") from exc
    if not text.strip():
        raise _fail(path, "the file is empty")
    return text


def _notebook_cells(path: Path, text: str) -> list[Cell]:
    """Code cells of a notebook, through nbformat, falling back on the raw JSON."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        raise _fail(path, f"not a Jupyter notebook (invalid JSON{where})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise _fail(path, "not a Jupyter notebook (no list of cells in the JSON)")
    # Without an "nbformat" key nbformat guesses an old version and loses the sources.
    versioned = isinstance(raw.get("nbformat"), int) or "worksheets" in raw
    cells = _nbformat_cells(text) if versioned else None
    if cells is None:
        cells = raw.get("cells")
    if not isinstance(cells, list):
        raise _fail(path, "not a Jupyter notebook (its cells cannot be read)")
    return _code_cells(cells)


def _nbformat_cells(text: str) -> list[Any] | None:
    """Cells as nbformat reads them (upgrading old versions), None if nbformat gives up."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception:  # nbformat raises many types for malformed input; raw JSON is the fallback
        return None
    cells = notebook.get("cells")
    return list(cells) if isinstance(cells, list) else None


def _code_cells(cells: list[Any]) -> list[Cell]:
    found = []
    for position, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        count = cell.get("execution_count")
        if not isinstance(count, int) or isinstance(count, bool):
            count = None
        found.append(Cell(index=position, source=str(source), execution_count=count))
    return found


def _python_cells(text: str) -> list[Cell]:
    """A ``.py`` file: one cell per ``# %%`` section, else one cell."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        marker = _PERCENT_MARKER.match(line)
        if marker:
            sections.append((marker.group(1), []))
        else:
            sections[-1][1].append(line)
    if not "\n".join(sections[0][1]).strip():
        sections.pop(0)
    cells = []
    for position, (header, lines) in enumerate(sections, start=1):
        source = "\n".join(lines)
        if "[markdown]" in header or "[md]" in header or not source.strip():
            continue
        cells.append(Cell(index=position, source=source, execution_count=None))
    return cells
