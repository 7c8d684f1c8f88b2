"""Which graded functions each graded function uses, read from the reference solution.

The feedback names a knock-on failure ("train uses your backward, which is wrong: fix backward
first") from this: the lecture's ``train`` calls ``init_params``, ``forward``, ``backward`` and
``sgd_step``. The reference notebook is the course's own (trusted) file; a reference that
cannot be read gives no dependencies, never an error (the feedback is only less specific).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from grader.core.course import Course


def _source(path: Path) -> str:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook.get("cells", [])
    except (OSError, ValueError, AttributeError):
        return ""
    parts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            parts.append("".join(source) if isinstance(source, list) else str(source))
    return "\n".join(line for part in parts for line in part.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def direct_calls(source: str, functions: Iterable[str]) -> dict[str, set[str]]:
    """function -> the other graded functions its body names (classes' methods included)."""
    wanted = set(functions)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name in wanted:
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            found[node.name] = (names & wanted) - {node.name}
    return found


def transitive(direct: Mapping[str, set[str]]) -> dict[str, tuple[str, ...]]:
    """Each function's uses, direct and indirect, sorted."""
    result = {}
    for name in direct:
        seen: set[str] = set()
        todo = list(direct[name])
        while todo:
            other = todo.pop()
            if other not in seen and other != name:
                seen.add(other)
                todo.extend(direct.get(other, ()))
        result[name] = tuple(sorted(seen))
    return result


def reference_calls(course: Course) -> dict[str, dict[str, tuple[str, ...]]]:
    """assignment id -> function -> the graded functions it uses in the reference."""
    return {a.id: transitive(direct_calls(_source(a.reference), a.functions))
            for a in course.assignments}
