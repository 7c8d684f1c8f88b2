"""From cells to a module the worker can import: the extraction pipeline.

Over 400 lines on purpose: the steps stand in the order they run, each a small pure function,
so the whole contract reads top to bottom in one file (read.py and parse.py hold the rest).

Like nbgrader's preprocessors, extraction is a chain of small pure functions over plain data,
each one step of the contract ("a notebook is graded from its code, whatever happened to its
cells"); :func:`extract_module` only composes them:

    strip_magics      IPython syntax out: line magics, ``!shell``, ``obj?``, non-Python cells
    parse_cell        ``ast`` per cell; a syntax error costs only the broken top-level chunk
                      (both in :mod:`grader.extract.parse`)
    describe          each top-level statement: its kind and the names it binds and reads
    resolve_duplicates  one winner per name: never an unfinished stub, else the last one run
    select_needed     defs, classes, imports, and only the assignments something uses
    order_statements  imports first, then dependency order (stable, cycles keep cell order)

Nothing here executes student code. Name analysis (:mod:`grader.extract.names`) is static and
deliberately approximate: a statement's *early* names are
read when it runs at module level (decorators, defaults, class bases and bodies, right-hand
sides), its *late* names only when the functions it defines are called. Early names order
statements; early and late names together decide which assignments are needed, so a 10-minute
``losses = train(...)`` demo line is dropped while ``ACTIVATIONS = {"relu": relu}`` is kept
when a function uses it. Each step adds short notes for the student's feedback.

Every step is linear (or n log n) in the number of statements, and a submission holds at
most :data:`MAX_STATEMENTS` top-level statements (an ExtractionError beyond) and gets at most
:data:`MAX_NOTES` notes, so no notebook makes extraction slow or its feedback huge.
"""

from __future__ import annotations

import ast
import dataclasses
import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from grader.core.errors import ExtractionError
from grader.extract.names import bound_names, describe_reads
from grader.extract.parse import MAX_STATEMENTS, cell_magic, parse_cell, place, strip_magics
from grader.extract.read import Cell

#: Steps of dependency analysis one submission may take (an honest notebook takes thousands).
MAX_ORDER_STEPS = 1_000_000
#: The one wording of the note on code outside functions, in every output (the feedback,
#: Gradescope, the self-check): grader.core.feedback passes notes through unchanged.
DROPPED_CODE = "Code outside your functions was not run when grading"
UNUSED_VARIABLES = "Variables that none of your functions use"
#: Notes per submission, and cells named in one duplicate note.
MAX_NOTES = 40
_MAX_CELLS_NAMED = 8


@dataclass(frozen=True)
class StudentModule:
    """The code that is graded: top-level statements in an order in which they can run."""

    statements: tuple[str, ...]
    defined: tuple[str, ...]
    notes: tuple[str, ...]
    #: Where each statement starts in what the student handed in: (cell, line in the cell) of
    #: a notebook, (0, line in the file) of a .py file (grader.extract.origins).
    origins: tuple[tuple[int, int], ...] = ()

    @property
    def source(self) -> str:
        return "\n\n".join(self.statements)


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


def extract_module(cells: list[Cell], required: Sequence[str]) -> StudentModule:
    """The graded module of a submission's cells; ``required`` names are kept even if unused."""
    notes: list[str] = []
    statements: list[Statement] = []
    for cell in cells:
        source = strip_magics(cell.source)
        magic = cell_magic(cell.source)
        if magic is not None and not source:
            notes.append(f"{place(cell.index, None, cell.file_line)}: %%{magic} cell is not "
                         "Python; it was skipped")
        parsed, cell_notes = parse_cell(cell.index, source, MAX_STATEMENTS - len(statements),
                                        cell.file_line)
        notes.extend(cell_notes)
        for node, text in parsed:
            statements.append(describe(cell, len(statements), node, text))
    winners, duplicate_notes = resolve_duplicates(statements)
    kept, dropped_notes = select_needed(winners, required)
    ordered = order_statements(kept)
    defined = dict.fromkeys(name for s in ordered for name in sorted(s.binds))
    # a duplicate matters to the student only when grading keeps that name
    notes.extend(note for name, note in duplicate_notes if name in defined)
    notes.extend(dropped_notes)
    return StudentModule(tuple(s.text for s in ordered), tuple(defined), _capped(notes),
                         tuple(origin(s) for s in ordered))


def origin(statement: Statement) -> tuple[int, int]:
    """(cell, first line in the cell), or (0, line in the file) for a .py file's cell."""
    node = statement.node
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    cell = statement.cell
    if cell.file_line is not None:
        return 0, cell.file_line + first - 1
    return cell.index, first


def _capped(notes: list[str]) -> tuple[str, ...]:
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    return (*notes[:MAX_NOTES - 1], f"... and {len(notes) - MAX_NOTES + 1} more notes")


# -- c. classification -------------------------------------------------------------------------


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
    if isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)) or _is_constant_expr(node):
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


def _is_constant_expr(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _is_harmless_expr(node: ast.stmt) -> bool:
    """A docstring or a ``print(...)``/``warnings.warn(...)`` call inside a defining block."""
    if _is_constant_expr(node):
        return True
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (isinstance(func, ast.Name) and func.id == "print") or (
        isinstance(func, ast.Attribute) and func.attr == "warn"
    )


# -- d. duplicates -----------------------------------------------------------------------------


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
    return isinstance(node, ast.Pass) or _is_constant_expr(node)


def _raises_not_implemented(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


# -- e. selection ------------------------------------------------------------------------------


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


# -- f. order ----------------------------------------------------------------------------------


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
