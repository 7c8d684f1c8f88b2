"""Static name analysis of top-level statements, for ordering and selecting extracted code.

Two questions are asked of every top-level statement, without running it:

* which module-level names does it **bind** (or only **update**: ``d["k"] = v``, ``n += 1``)?
* which names does it **read**, split by when: *early* names are read when the statement runs
  at module level (right-hand sides, decorators, default values, annotations, class bases and
  class bodies), *late* names only when a function it defines is called (free variables of
  function and lambda bodies).

The analysis follows Python's scoping closely enough for notebooks: function parameters and
names assigned in a body are local (unless declared ``global``), comprehension variables are
local to the comprehension, class-body names are not visible in methods. It is approximate
where exactness would not change a grade (``del``, ``match`` captures, walrus targets).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def bound_names(node: ast.stmt) -> tuple[set[str], set[str]]:
    """``(binds, updates)``: names a top-level statement (re)defines, and names it mutates."""
    binds: set[str] = set()
    updates: set[str] = set()
    _collect_bindings(node, binds, updates)
    return binds, updates


def _collect_bindings(node: ast.stmt, binds: set[str], updates: set[str]) -> None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        binds |= _import_names(node)
    elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        binds.add(node.name)
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            _target_names(target, binds, updates)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        _target_names(node.target, binds, updates)
    elif isinstance(node, ast.AugAssign):
        _target_names(node.target, updates, updates)
    elif isinstance(node, (ast.If, ast.Try)):
        for child in _sub_statements(node):
            _collect_bindings(child, binds, updates)


def _sub_statements(node: ast.If | ast.Try) -> list[ast.stmt]:
    if isinstance(node, ast.If):
        return node.body + node.orelse
    handlers = [s for h in node.handlers for s in h.body]
    return node.body + handlers + node.orelse + node.finalbody


def _import_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    names = set()
    for alias in node.names:
        if alias.name != "*":
            names.add(alias.asname or alias.name.split(".")[0])
    return names


def _target_names(target: ast.expr, binds: set[str], updates: set[str]) -> None:
    if isinstance(target, ast.Name):
        binds.add(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _target_names(element, binds, updates)
    elif isinstance(target, ast.Starred):
        _target_names(target.value, binds, updates)
    elif isinstance(target, (ast.Attribute, ast.Subscript)):
        base: ast.expr = target
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if isinstance(base, ast.Name):
            updates.add(base.id)


def describe_reads(node: ast.stmt) -> tuple[set[str], set[str]]:
    """``(early, late)``: names read when the statement runs, and later by its functions."""
    reads = _Reads()
    reads.visit(node)
    return reads.early, reads.late


class _Reads(ast.NodeVisitor):
    """Collects loaded names of the current scope (early) and of nested function bodies (late)."""

    def __init__(self) -> None:
        self.early: set[str] = set()
        self.late: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.early.add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_all(node.decorator_list)
        self._visit_arguments(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        self.late |= free_names(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_all(node.args.defaults + [d for d in node.args.kw_defaults if d])
        self.late |= free_names(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list + node.bases + [k.value for k in node.keywords])
        body = _Reads()
        body._visit_all(node.body)
        self.early |= body.early - stored_names(node.body)
        self.late |= body.late

    def _visit_comprehension(self, node: ast.expr) -> None:
        inner = _Reads()
        inner.generic_visit(node)
        local = {
            n.id
            for generator in node.generators  # type: ignore[attr-defined]
            for n in ast.walk(generator.target)
            if isinstance(n, ast.Name)
        }
        self.early |= inner.early - local
        self.late |= inner.late - local

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    def _visit_arguments(self, args: ast.arguments) -> None:
        every = args.posonlyargs + args.args + args.kwonlyargs
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        annotations = [a.annotation for a in every if a.annotation is not None]
        defaults = args.defaults + [d for d in args.kw_defaults if d is not None]
        self._visit_all(defaults + annotations)

    def _visit_all(self, nodes: Iterable[ast.AST]) -> None:
        for child in nodes:
            self.visit(child)


def free_names(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names a function body reads from outside it: globals and closure variables."""
    body: list[ast.stmt] = (
        [ast.Expr(func.body)] if isinstance(func, ast.Lambda) else list(func.body)
    )
    reads = _Reads()
    reads._visit_all(body)
    args = func.args
    every = args.posonlyargs + args.args + args.kwonlyargs
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    declared_global = {
        name for n in ast.walk(ast.Module(body=body, type_ignores=[]))
        if isinstance(n, ast.Global) for name in n.names
    }  # fmt: skip
    local = ({a.arg for a in every} | stored_names(body)) - declared_global
    return (reads.early | reads.late) - local


def stored_names(body: list[ast.stmt]) -> set[str]:
    """Names bound in a scope's body, not descending into nested function or class bodies."""
    found: set[str] = set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            found.add(node.name)
            continue
        if isinstance(node, (ast.Lambda, *_COMPREHENSIONS)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= _import_names(node)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return found
