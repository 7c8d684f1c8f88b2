"""What is kept and in which order it runs (steps ``select_needed`` and ``order_statements`` of
the extraction pipeline, grader/extract/pipeline.py): defs, classes, imports and the
assignments they use, imports first, then dependency order (stable; a cycle keeps cell order).
Both are linear (or n log n) in the statements; ordering spends a shared budget of steps."""

from __future__ import annotations

import ast
import heapq
from collections.abc import Sequence

from grader.core.errors import ExtractionError
from grader.extract.statements import Statement

#: Steps of dependency analysis one submission may take (an honest notebook takes thousands).
MAX_ORDER_STEPS = 1_000_000
#: The one wording of the note on code outside functions, in every output (the feedback,
#: Gradescope, the self-check): grader.core.feedback passes notes through unchanged.
DROPPED_CODE = "Code outside your functions was not run when grading"
UNUSED_VARIABLES = "Variables that none of your functions use"


def select_needed(
    statements: list[Statement], required: Sequence[str]
) -> tuple[list[Statement], list[str]]:
    """Imports, defs, classes, and the assignments they (or ``required``) need, transitively.

    A worklist over names: each assignment is kept at most once and each name is looked up
    once, so this is linear in the statements and their names."""
    keep = {s.position for s in statements if s.kind in ("import", "def")}
    assigning: dict[str, list[Statement]] = {}
    for s in statements:
        if s.kind == "assign" and s.position not in keep:
            for name in s.binds | s.updates:
                assigning.setdefault(name, []).append(s)
    todo = list(required)
    for s in statements:
        if s.position in keep:
            todo.extend(s.early | s.late)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for s in assigning.get(name, ()):
            if s.position not in keep:
                keep.add(s.position)
                todo.extend(s.early | s.late)
    kept = [s for s in statements if s.position in keep]
    dropped = [s for s in statements if s.position not in keep]
    return kept, _dropped_notes(dropped)


_DEMO_LABELS = (
    (ast.For, "loops"), (ast.AsyncFor, "loops"), (ast.While, "loops"), (ast.With, "with blocks"),
    (ast.If, "if blocks"), (ast.Try, "try blocks"), (ast.Expr, "calls"),
)  # fmt: skip


def _demo_label(node: ast.stmt) -> str:
    if isinstance(node, ast.Expr) and "plt" in {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name)
    }:
        return "plots"
    return next((label for kind, label in _DEMO_LABELS if isinstance(node, kind)), "other code")


def _dropped_notes(dropped: list[Statement]) -> list[str]:
    notes = []
    demo = [s for s in dropped if s.kind == "demo"]
    if demo:
        labels = ", ".join(dict.fromkeys(sorted(_demo_label(s.node) for s in demo)))
        count = f"{len(demo)} statement" + ("s" if len(demo) > 1 else "")
        notes.append(f"{DROPPED_CODE}: {count} ({labels}). Only your functions are graded, "
                     "so this costs nothing.")
    unused = [s for s in dropped if s.kind == "assign" and s.binds | s.updates]
    if unused:
        names = sorted({n for s in unused for n in s.binds | s.updates})
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        notes.append(f"{UNUSED_VARIABLES} ({shown}) were not set when grading; this costs "
                     "nothing.")
    return notes


def order_statements(statements: list[Statement]) -> list[Statement]:
    """Imports first, then each statement after the definitions it reads when it runs."""
    imports = [s for s in statements if s.kind == "import"]
    rest = [s for s in statements if s.kind != "import"]
    definer: dict[str, int] = {}
    for i, s in enumerate(rest):
        for name in s.binds:
            definer[name] = i  # duplicates are resolved: only the winner binds a name
    successors: list[set[int]] = [set() for _ in rest]
    budget = [MAX_ORDER_STEPS]
    for j, s in enumerate(rest):
        for name in _run_time_reads(s, rest, definer, budget) | s.updates:
            if definer.get(name, j) != j:
                successors[definer[name]].add(j)
        for name in s.lost:  # a kept loser of ``name`` must run before its winner
            if name in definer:
                successors[j].add(definer[name])
    return imports + [rest[i] for i in _stable_topological(successors)]


def _run_time_reads(s: Statement, rest: list[Statement], definer: dict[str, int],
                    budget: list[int]) -> set[str]:
    """Names read when ``s`` runs, including by the functions it calls then (transitively).

    Each name looked at spends one step of ``budget`` (shared by all statements): thousands of
    statements that each call into a long chain of functions are refused, not ordered for
    minutes."""
    reads = set(s.early)
    todo = list(reads)
    budget[0] -= len(todo)
    while todo:
        if budget[0] < 0:
            raise ExtractionError(f"more than {MAX_ORDER_STEPS} dependencies between its "
                                  "top-level statements")
        name = todo.pop()
        index = definer.get(name)
        if index is None or rest[index] is s or rest[index].kind != "def":
            continue
        for later in rest[index].late - reads:
            reads.add(later)
            todo.append(later)
        budget[0] -= len(rest[index].late)
    return reads


def _stable_topological(successors: list[set[int]]) -> list[int]:
    """Kahn's algorithm taking the earliest ready index; a cycle is broken in saved order."""
    indegree = [0] * len(successors)
    for targets in successors:
        for j in targets:
            indegree[j] += 1
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    done = [False] * len(successors)
    order: list[int] = []
    unplaced = 0  # every index below it is done: a cycle is broken at the first one not done
    while len(order) < len(successors):
        if ready:
            i = heapq.heappop(ready)
        else:
            while done[unplaced]:
                unplaced += 1
            i = unplaced
        if done[i]:
            continue
        done[i] = True
        order.append(i)
        for j in successors[i]:
            indegree[j] -= 1
            if indegree[j] == 0 and not done[j]:
                heapq.heappush(ready, j)
    return order
