"""Each top-level statement of a submission, classified (step ``describe`` of the extraction
pipeline, grader/extract/pipeline.py): its kind and the names it binds and reads."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.extract.names import bound_names, describe_reads
from grader.extract.read import Cell


@dataclass(frozen=True)
class Statement:
    """One top-level statement and what the pipeline knows about it.

    ``kind`` is ``import``, ``def`` (def/class), ``assign`` (assignments and blocks that only
    define names), ``demo`` (code not run when grading) or ``skip`` (docstrings, ``pass``).
    ``position`` is its place in the notebook's saved order. ``lost`` holds names it binds
    but whose duplicate definition elsewhere won: it is kept for its other names and runs
    before the winners.
    """

    cell: Cell
    position: int
    node: ast.stmt
    text: str
    kind: str
    binds: frozenset[str]
    updates: frozenset[str]
    early: frozenset[str]
    late: frozenset[str]
    lost: frozenset[str] = frozenset()


def describe(cell: Cell, position: int, node: ast.stmt, text: str) -> Statement:
    """Classify a top-level statement and collect the names it binds and reads."""
    kind = classify(node)
    binds, updates = bound_names(node) if kind in ("import", "def", "assign") else (set(), set())
    early, late = describe_reads(node)
    if kind == "assign":  # ``x = x + 1`` extends an earlier x rather than replacing it
        updates |= binds & early
        binds -= early
    return Statement(
        cell, position, node, text, kind, frozenset(binds), frozenset(updates),
        frozenset(early), frozenset(late),
    )  # fmt: skip


def classify(node: ast.stmt) -> str:
    """``import``, ``def``, ``assign``, ``demo`` or ``skip`` (see :class:`Statement`)."""
    if is_selfcheck_import(node):
        return "skip"
    if isinstance(node, (ast.Import, ast.ImportFrom)) or _is_import_try(node):
        return "import"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return "def"
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return "assign"
    if isinstance(node, (ast.If, ast.Try)) and _defines_only([node]):
        return "assign"
    if isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)) or is_constant_expr(node):
        return "skip"
    return "demo"


#: The student bundle's self-check (templates/bundle/selfcheck): a notebook imports it to check
#: itself; the grading machine has no such package, and grading never needs it.
SELFCHECK = "selfcheck"


def is_selfcheck_import(node: ast.stmt) -> bool:
    """``from selfcheck import check`` or ``import selfcheck``: ignored when grading."""
    if isinstance(node, ast.ImportFrom):
        return not node.level and (node.module or "").split(".")[0] == SELFCHECK
    if isinstance(node, ast.Import):
        return all(alias.name.split(".")[0] == SELFCHECK for alias in node.names)
    return False


def _is_import_try(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Try)
        and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body)
        and _defines_only([s for h in node.handlers for s in h.body] + node.orelse)
        and _defines_only(node.finalbody)
    )


def _defines_only(body: list[ast.stmt]) -> bool:
    """Statements that only bind names (and may print): safe to run at import time."""
    for node in body:
        if isinstance(node, ast.If):
            if _mentions_main(node.test) or not _defines_only(node.body + node.orelse):
                return False
        elif isinstance(node, ast.Try):
            handlers = [s for h in node.handlers for s in h.body]
            if not _defines_only(node.body + handlers + node.orelse + node.finalbody):
                return False
        elif not isinstance(node, _DEFINING) and not _is_harmless_expr(node):
            return False
    return True


_DEFINING = (
    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass, ast.Raise,
)  # fmt: skip


def _mentions_main(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(test))


def is_constant_expr(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _is_harmless_expr(node: ast.stmt) -> bool:
    """A docstring or a ``print(...)``/``warnings.warn(...)`` call inside a defining block."""
    if is_constant_expr(node):
        return True
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (isinstance(func, ast.Name) and func.id == "print") or (
        isinstance(func, ast.Attribute) and func.attr == "warn"
    )
