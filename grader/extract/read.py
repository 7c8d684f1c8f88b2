"""Reading a submission into plain cells: the first step of the extraction pipeline.

A submission is either a Jupyter notebook or a ``.py`` file. Both become a list of
:class:`Cell` (code cells only, in saved order), so every later step works on the same plain
data and never needs to know where the code came from.

Reading is tolerant of what students do to notebooks (stripped metadata, missing
``execution_count``, sources saved as lists of lines, old nbformat versions) and strict about
what cannot be a notebook at all: an empty file, invalid JSON, JSON that holds no cells, binary
data. Those raise :class:`~grader.core.errors.ExtractionError` with one line, ``"<file name>: <what
is wrong>"``, which goes into that student's feedback as it is.

A ``.py`` file is split into cells at ``# %%`` markers (the jupytext / VS Code "percent"
format); ``# %% [markdown]`` sections are skipped. Without markers the whole file is one cell.

Every read is bounded: only a regular file, never through a link, at most ``max_bytes``
(:mod:`grader.core.files`); JSON nested too deeply for the parser, more than
:data:`MAX_CELLS` cells, or more than :data:`MAX_CODE_CHARS` characters of code are one-line
ExtractionErrors, like any other unreadable file. nbformat is used only to upgrade notebooks
older than version 4 (a version 4 notebook is read as the JSON it is, without a schema pass).
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.errors import ExtractionError
from grader.core.files import DEFAULT_MAX_BYTES, read_regular

#: More cells than any notebook a student writes by hand (100,000-cell files are attacks).
MAX_CELLS = 5000
#: Characters of code (all code cells together) a submission may hold.
MAX_CODE_CHARS = 4_000_000

#: A ``# %%`` cell marker line of the percent format, capturing what follows it.
_PERCENT_MARKER = re.compile(r"^#\s?%%(.*)$")


@dataclass(frozen=True)
class Cell:
    """One code cell.

    ``index`` is the cell's number among the notebook's code cells (1-based, in saved order,
    markdown and raw cells not counted), so feedback says "code cell 4" and a student finds it
    by counting code cells (in a ``.py`` file: the section's position; its references use
    ``file_line``). ``execution_count`` is None
    when the cell never ran or the count was stripped. ``file_line``: for a ``.py`` file, the
    file's line number of the cell's first line (a student reads "line L" of the file there).
    """

    index: int
    source: str
    execution_count: int | None
    file_line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Source:
    """A submission as read: its code cells and the assignment its metadata names, if any."""

    cells: list[Cell]
    assignment: str | None


def read_source(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """The code cells of a ``.ipynb`` notebook or ``.py`` file (in saved order) and the
    assignment id the stub stored in the notebook's metadata."""
    text = _read_text(path, max_bytes)
    if path.suffix.lower() == ".ipynb":
        raw = _notebook_json(path, text)
        cells = _notebook_cells(path, raw)
        assignment = _metadata_assignment(raw)
    else:
        cells, assignment = _python_cells(text), None
    if len(cells) > MAX_CELLS:
        raise _fail(path, f"more than {MAX_CELLS} code cells ({len(cells)})")
    if sum(len(cell.source) for cell in cells) > MAX_CODE_CHARS:
        raise _fail(path, f"more than {MAX_CODE_CHARS // 1_000_000} million characters of code")
    return Source(cells, assignment)


def read_cells(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Cell]:
    """The code cells of a ``.ipynb`` notebook or ``.py`` file, in saved order."""
    return read_source(path, max_bytes).cells


def notebook_assignment(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """The assignment id the stub stored in ``metadata["grader"]``; None when there is none."""
    if path.suffix.lower() != ".ipynb":
        return None
    try:
        return _metadata_assignment(_notebook_json(path, _read_text(path, max_bytes)))
    except ExtractionError:
        return None


def notebook_json(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """The notebook's whole JSON (markdown cells and outputs too: grader.extract.written),
    read with the same bounds as its code."""
    return _notebook_json(path, _read_text(path, max_bytes))


def _metadata_assignment(raw: dict[str, Any]) -> str | None:
    metadata = raw.get("metadata")
    grader = metadata.get("grader") if isinstance(metadata, dict) else None
    if not isinstance(grader, dict):
        return None
    assignment = grader.get("assignment")
    return assignment if isinstance(assignment, str) and assignment else None


def _fail(path: Path, problem: str) -> ExtractionError:
    return ExtractionError(f"{path.name}: {problem}")


def _read_text(path: Path, max_bytes: int) -> str:
    """The file as text; unreadable, binary, empty or oversized files raise ExtractionError."""
    data = read_regular(path, max_bytes)
    if b"\x00" in data:
        raise _fail(path, "not a text file (binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not a text file (not UTF-8 at byte {exc.start})") from None
    if not text.strip():
        raise _fail(path, "the file is empty")
    return text


def _notebook_json(path: Path, text: str) -> dict[str, Any]:
    """The notebook's JSON object; anything else raises ExtractionError."""
    try:
        raw = json.loads(text)
    except RecursionError:
        raise _fail(path, "not a Jupyter notebook (its JSON is nested too deeply)") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        raise _fail(path, f"not a Jupyter notebook (invalid JSON{where})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise _fail(path, "not a Jupyter notebook (no list of cells in the JSON)")
    return raw


def _notebook_cells(path: Path, raw: dict[str, Any]) -> list[Cell]:
    """Code cells of a notebook; versions before 4 are upgraded by nbformat first."""
    version = raw.get("nbformat")
    old = "worksheets" in raw or (isinstance(version, int) and version < 4)
    cells = _upgraded_cells(raw) if old else raw.get("cells")
    if not isinstance(cells, list):
        raise _fail(path, "not a Jupyter notebook (its cells cannot be read)")
    if len(cells) > MAX_CELLS:
        raise _fail(path, f"more than {MAX_CELLS} cells ({len(cells)})")
    return _code_cells(cells)


def _upgraded_cells(raw: dict[str, Any]) -> list[Any] | None:
    """Cells of an old notebook as nbformat upgrades them, None if nbformat gives up."""
    import nbformat  # only old notebooks need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(json.dumps(raw), as_version=4,
                                      capture_validation_error={})
    except Exception:  # nbformat raises many types for malformed input
        return None
    cells = notebook.get("cells")
    return list(cells) if isinstance(cells, list) else None


def _code_cells(cells: list[Any]) -> list[Cell]:
    found: list[Cell] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        position = len(found) + 1
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
    sections: list[tuple[str, list[str], int]] = [("", [], 1)]
    for number, line in enumerate(text.splitlines(), start=1):
        marker = _PERCENT_MARKER.match(line)
        if marker:
            sections.append((marker.group(1), [], number + 1))
        else:
            sections[-1][1].append(line)
    if not "\n".join(sections[0][1]).strip():
        sections.pop(0)
    cells = []
    for position, (header, lines, first) in enumerate(sections, start=1):
        source = "\n".join(lines)
        if "[markdown]" in header or "[md]" in header or not source.strip():
            continue
        cells.append(Cell(index=position, source=source, execution_count=None, file_line=first))
    return cells
