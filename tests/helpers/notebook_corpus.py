"""Every notebook the project has, as (assignment, label, notebook) for the agreement test.

* the demo class (demo/submissions/, assignments matched by the grader's own discovery);
* tests/equivalents and tests/mutants, each .py turned into a notebook (one cell per top-level
  statement, consecutive imports together);
* each assignment's stub;
* the robustness cases of the extraction tests, built from each reference solution: cells
  reversed, merged in pairs, split one statement per cell, all in one cell, each unfinished
  stub cell beside the solved one, magics and shell lines; a class below its first use (with
  the imports at the bottom) and a dict of functions below the functions that use it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.core.course import Course
from grader.extract.stub import strip_markers
from grader.run.discover import discover

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    assignment: str
    label: str
    build: Callable[[Path], Path]  # writes the file under the given stem, returns its path


def statement_cells(text: str) -> list[str]:
    """A script as cells: one per top-level statement, consecutive imports in one cell, the
    comment lines above a statement in its cell."""
    lines = text.splitlines()
    tree = ast.parse(text)
    starts = [min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
              for node in tree.body]
    kinds = ["import" if isinstance(node, (ast.Import, ast.ImportFrom)) else "other"
             for node in tree.body]
    cells: list[str] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        chunk = "\n".join(lines[0 if i == 0 else start:end]).strip("\n")
        if cells and kinds[i] == "import" and kinds[i - 1] == "import":
            cells[-1] += "\n" + chunk
        else:
            cells.append(chunk)
    return [c for c in cells if c.strip()]


def write_cells(path: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, str(path))
    return path


def code_cells(path: Path, solved: bool) -> list[str]:
    notebook = nbformat.read(str(path), as_version=4)
    return [strip_markers(c.source) if solved else c.source
            for c in notebook.cells if c.cell_type == "code"]


def _variants(course: Course) -> Iterator[tuple[str, str, list[str]]]:
    for a in course.assignments:
        real = code_cells(a.reference, solved=True)
        # the stub's cells to fill in (a check cell that only catches NotImplementedError
        # defines nothing)
        stub = [c for c in code_cells(a.stub, solved=False)
                if "NotImplementedError" in c and _defined(c)]
        yield a.id, "reversed", real[::-1]
        yield a.id, "merged", ["\n\n".join(real[i:i + 2]) for i in range(0, len(real), 2)]
        yield a.id, "split", statement_cells("\n\n".join(real))
        yield a.id, "one-cell", ["\n\n".join(real)]
        beside = [c for cell in real for c in [cell, *(s for s in stub if _same_defs(s, cell))]]
        assert len(beside) == len(real) + len(stub), f"{a.id}: a stub cell without its twin"
        yield a.id, "stub-beside-real", beside
        yield a.id, "magics", ["%matplotlib inline\n!pip list", *real, "%%bash\necho hi"]
        if a.id == "training":
            imports = [c for c in real if c.lstrip().startswith("import")]
            classes = [c for c in real if c.lstrip().startswith("class ")]
            rest = [c for c in real if c not in imports and c not in classes]
            yield a.id, "class-below-use", [
                "def make_model():\n    return SimpleNN()", *rest, *classes, *imports]
        if a.id == "forward":
            table = [c for c in real if "ACTIVATIONS = {" in c]
            assert table, "forward's reference defines its ACTIVATIONS dict"
            yield a.id, "dict-below-functions", [c for c in real if c not in table] + table


def _defined(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _same_defs(stub: str, real: str) -> bool:
    return bool(_defined(stub)) and _defined(stub) == _defined(real)


def cases(course: Course) -> list[Case]:
    """Every notebook of the project, each able to write itself into a folder."""
    found: list[Case] = []
    for submission in discover(ROOT / "demo" / "submissions", course.assignments).submissions:
        source = submission.path
        found.append(Case(submission.assignment, f"demo-{submission.student}-{source.stem}",
                          lambda stem, source=source: _copy(source, stem)))
    for kind in ("equivalents", "mutants"):
        for path in sorted((ROOT / "tests" / kind).glob("*/*.py")):
            cells = statement_cells(path.read_text(encoding="utf-8"))
            found.append(Case(path.parent.name, f"{kind}-{path.stem}",
                              lambda stem, cells=cells: write_cells(stem.with_suffix(".ipynb"),
                                                                    cells)))
    for a in course.assignments:
        found.append(Case(a.id, "stub", lambda stem, a=a: _copy(a.stub, stem)))
    for assignment, label, cells in _variants(course):
        found.append(Case(assignment, label,
                          lambda stem, cells=cells: write_cells(stem.with_suffix(".ipynb"),
                                                                cells)))
    return found


def _copy(source: Path, stem: Path) -> Path:
    target = stem.with_suffix(source.suffix)
    target.write_bytes(source.read_bytes())
    return target


__all__ = ["Case", "cases", "code_cells", "statement_cells", "write_cells"]
