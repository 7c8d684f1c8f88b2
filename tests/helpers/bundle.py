"""The student bundle as tests make and use it: ``grade release`` through the command line, a
stub filled with the reference's solutions, and Python run as a student runs it."""

from __future__ import annotations

import ast
import site
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

from grader.core.course import DEFAULT_ROOT

ROOT = DEFAULT_ROOT
GRADE = [sys.executable, "-m", "grader.cli"]


def make_bundle(out: Path, *only: str, with_workflow: bool = False) -> Path:
    """`grade release OUT` through the command line, as an instructor runs it."""
    command = [*GRADE, "release", str(out), *(f"--assignment={a}" for a in only)]
    if with_workflow:
        command.append("--with-workflow")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "no hidden test, solution or secret" in done.stdout
    return out


def fill_stub(stub: Path, reference: Path, target: Path, replace: dict[str, str] | None = None
              ) -> Path:
    """The stub with each cell that raises NotImplementedError swapped for the reference cell
    defining the same names (what a student who solved everything hands in)."""
    ref = nbformat.read(reference, as_version=4)
    by_names = {}
    for cell in ref.cells:
        if cell.cell_type == "code":
            names = defined_names(cell.source)
            if names:
                by_names[names] = cell.source
    notebook = nbformat.read(stub, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "NotImplementedError" in cell.source \
                and defined_names(cell.source):  # not a cell that only catches it
            cell.source = by_names[defined_names(cell.source)]
            for old, new in (replace or {}).items():
                cell.source = cell.source.replace(old, new)
    nbformat.write(notebook, target)
    return target


def defined_names(source: str) -> frozenset[str]:
    clean = "\n".join(line for line in source.splitlines()
                      if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(clean)
    except SyntaxError:
        return frozenset()
    return frozenset(n.name for n in tree.body
                     if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)))


def bundle_python(bundle: Path, module: str, *args: str, cwd: Path | None = None,
                  timeout: int = 300, run: bool = True) -> Any:
    """``python -m MODULE ARGS`` as a student runs it, where the grader is not installed: no
    site processing (so no editable install of nn-grader), the site-packages folders only.
    The finished process, or (``run=False``) the command line."""
    prelude = (f"import sys, runpy; sys.path[:0] = [{str(cwd or bundle)!r}]; "
               f"sys.path += {site.getsitepackages()!r}; sys.argv = [{module!r}, *{args!r}]; "
               f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    command = [sys.executable, "-S", "-c", prelude]
    if not run:
        return command
    return subprocess.run(command, cwd=cwd or bundle, capture_output=True, text=True,
                          timeout=timeout)
