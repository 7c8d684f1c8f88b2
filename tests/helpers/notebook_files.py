"""Helpers for tests that need notebooks on disk (imported by test modules, not a test)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import nbformat

Spec = str | tuple[str, int | None]


def write_notebook(path: Path, *specs: Spec, metadata: dict[str, Any] | None = None) -> Path:
    notebook = nbformat.v4.new_notebook(metadata=metadata or {})
    for spec in specs:
        source, count = spec if isinstance(spec, tuple) else (spec, None)
        notebook.cells.append(
            nbformat.v4.new_code_cell(textwrap.dedent(source), execution_count=count)
        )
    nbformat.write(notebook, str(path))
    return path
