"""One definition per name (step ``resolve_duplicates`` of the extraction pipeline,
grader/extract/pipeline.py): never an unfinished stub, else the one that ran last."""

from __future__ import annotations

import ast
import dataclasses

from grader.extract.statements import Statement, is_constant_expr

#: Cells named in one duplicate note.
_MAX_CELLS_NAMED = 8


def resolve_duplicates(statements: list[Statement]
                       ) -> tuple[list[Statement], list[tuple[str, str]]]:
    """Keep one definition per name (contract rules) and one copy of each identical import;
    also returns a (name, note) per name defined more than once."""
    groups: dict[str, list[Statement]] = {}
    for s in statements:
        if s.kind in ("def", "assign"):
            for name in s.binds:
                groups.setdefault(name, []).append(s)
    losers: dict[int, set[str]] = {}
    notes = []
    for name, group in sorted(groups.items(), key=lambda item: item[1][0].position):
        if len(group) < 2:
            continue
        winner, note = _pick_winner(name, group)
        notes.append((name, note))
        for s in group:
            if s is not winner:
                losers.setdefault(s.position, set()).add(name)
    seen_imports: set[str] = set()
    kept = []
    for s in statements:
        if s.kind == "import":
            if s.text.strip() in seen_imports:
                continue
            seen_imports.add(s.text.strip())
        lost = losers.get(s.position, set())
        if s.binds and lost >= s.binds:
            continue
        kept.append(
            dataclasses.replace(s, binds=s.binds - lost, lost=frozenset(lost)) if lost else s
        )
    return kept, notes


def _pick_winner(name: str, group: list[Statement]) -> tuple[Statement, str]:
    stub = [is_stub(s.node) for s in group]
    real = [s for s, unfinished in zip(group, stub, strict=True) if not unfinished] or group
    winner = real[0]
    for s in real[1:]:
        if ran_later(s, winner):
            winner = s
    stubs = [s for s, unfinished in zip(group, stub, strict=True) if unfinished]
    if stubs and len(real) == 1:
        cells = _cell_list(stubs)
        return winner, (
            f"{name}: the unfinished stub (raise NotImplementedError) in code cell {cells} "
            f"was ignored; your definition in code cell {winner.cell.index} is used"
        )
    counted = "two definitions" if len(group) == 2 else f"{len(group)} definitions"
    cells = _cell_list(group)
    how = "ran last" if all(s.cell.execution_count is not None for s in real) else "comes last"
    return winner, f"{counted} of {name} (code cells {cells}): kept the one from code cell " + (
        f"{winner.cell.index} ({how})"
    )


def _cell_list(group: list[Statement]) -> str:
    """"3, 5, 8": the cells of ``group``, the first few only when there are many."""
    cells = list(dict.fromkeys(str(s.cell.index) for s in group))
    shown = ", ".join(cells[:_MAX_CELLS_NAMED])
    more = len(cells) - _MAX_CELLS_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def ran_later(a: Statement, b: Statement) -> bool:
    """Whether ``a`` ran after ``b``: higher execution count, else later cell or statement."""
    if a.cell.index != b.cell.index:
        count_a, count_b = a.cell.execution_count, b.cell.execution_count
        if count_a is not None and count_b is not None and count_a != count_b:
            return count_a > count_b
        return a.cell.index > b.cell.index
    return a.position > b.position


def is_stub(node: ast.stmt) -> bool:
    """A def whose body only raises NotImplementedError, or a class of such methods."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = [s for s in node.body if not _is_filler(s)]
        return len(body) == 1 and _raises_not_implemented(body[0])
    if isinstance(node, ast.ClassDef):
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return bool(methods) and all(_raises_not_implemented(m.body[-1]) for m in methods)
    return False


def _is_filler(node: ast.stmt) -> bool:
    return isinstance(node, ast.Pass) or is_constant_expr(node)


def _raises_not_implemented(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
