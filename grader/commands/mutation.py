"""Mutants derived from the reference by AST mutation, as mutmut and cosmic-ray make them, with
the operators that matter for numerical code.

Each operator looks at one node of a contract function (or of a contract class's methods) and
proposes replacements, each a single small bug:

    sign        -e -> e; a + b <-> a - b
    compare     < <-> <=, > <-> >=, == <-> !=, < <-> >; a if c else b -> b if c else a;
                not c -> c
    axis        axis=k -> another axis; a constant index or slice bound k -> k + 1 (off by one)
    swap        f(a, b) -> f(b, a); a - b, a / b, a @ b -> b - a, b / a, b @ a
    drop_term   a + b, a - b -> a (a dropped term)
    constant    a number k -> k + 1 (integers) or 2k (floats; 0.0 -> 1.0)
    transpose   x.T -> x; a @ b -> a @ b.T
    reduction   sum <-> mean, max <-> min (np.sum(...), x.sum(...), torch.sum...); keepdims
                True -> False
    inplace     x.copy(), x.clone(), np.copy(x), copy.deepcopy(x) -> x (the input changed in
                place); x = x op e -> x op= e
    drop_call   a call made for its effect dropped: optimizer.zero_grad(), model.eval(), ...
    no_grad     with torch.no_grad(): body -> body

:func:`generate` makes at most ``cap`` mutants per function, the operators taken in turn so one
kind of site cannot crowd out the others, each one distinct and different from the reference.
A mutant is the whole reference module with one change (what the grader grades); its diff is
the changed function, before and after, as ``ast.unparse`` writes it.
"""

from __future__ import annotations

import ast
import copy
import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

#: Mutants per contract function (the operators taken in turn).
DEFAULT_CAP = 12

Path_ = tuple[tuple[str, int | None], ...]  # (field, index in a list field or None)
Proposal = tuple[ast.AST | None, str]  # (replacement; None drops a statement, what it does)


@dataclass(frozen=True)
class Mutant:
    """One generated mutant of one contract function."""

    name: str  # <function>__<operator>_<k>: a file stem
    function: str
    operator: str
    description: str
    source: str  # the whole module
    diff: str  # unified diff of the function


def _sign(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield node.operand, "unary minus dropped"
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
        yield ast.BinOp(node.left, op, node.right), "+ and - swapped"


_FLIPS: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_REVERSE: dict[type, type] = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def _compare(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.IfExp):
        yield ast.IfExp(node.test, node.orelse, node.body), "condition inverted"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield node.operand, "not dropped"
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        for table, what in ((_FLIPS, "boundary"), (_REVERSE, "direction")):
            if op in table:
                yield (ast.Compare(node.left, [table[op]()], node.comparators),
                       f"comparison {what} changed")


def _int_constant(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_constant(node.operand)
        return None if inner is None else -inner
    return None


def _axis(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.keyword) and node.arg in ("axis", "dim"):
        k = _int_constant(node.value)
        if k is not None:
            other = 0 if k == -1 else (-1 if k == 0 else k - 1)
            yield ast.keyword(node.arg, ast.Constant(other)), f"{node.arg}={k} -> {other}"
    if isinstance(node, ast.Subscript):
        k = _int_constant(node.slice)
        if k is not None:
            yield (ast.Subscript(node.value, ast.Constant(k + 1), node.ctx),
                   f"index {k} -> {k + 1}")
    if isinstance(node, ast.Slice):
        for part in ("lower", "upper"):
            k = _int_constant(getattr(node, part))
            if k is not None:
                changed = copy.copy(node)
                setattr(changed, part, ast.Constant(k + 1))
                yield changed, f"slice bound {k} -> {k + 1}"


def _swap(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.Call) and len(node.args) >= 2 and not any(
            isinstance(a, ast.Starred) for a in node.args[:2]):
        args = [node.args[1], node.args[0], *node.args[2:]]
        yield ast.Call(node.func, args, node.keywords), "first two arguments swapped"
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Div, ast.MatMult)):
        yield ast.BinOp(node.right, node.op, node.left), "operands swapped"


def _drop_term(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield node.left, "term dropped"


def _constant(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        new = value + 1 if type(value) is int else (value * 2 if value else 1.0)
        yield ast.Constant(new), f"constant {value!r} -> {new!r}"


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return node.id if isinstance(node, ast.Name) else "?"


def _transpose(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield node.value, ".T dropped"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and not (
            isinstance(node.right, ast.Attribute) and node.right.attr == "T"):
        yield (ast.BinOp(node.left, node.op, ast.Attribute(node.right, "T", ast.Load())),
               ".T added")


_REDUCTIONS = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "amax": "amin",
               "amin": "amax"}


def _reduction(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in _REDUCTIONS:
        other = _REDUCTIONS[node.func.attr]
        func = ast.Attribute(node.func.value, other, ast.Load())
        yield ast.Call(func, node.args, node.keywords), f"{node.func.attr} -> {other}"
    if isinstance(node, ast.keyword) and node.arg in ("keepdims", "keepdim") \
            and isinstance(node.value, ast.Constant) and node.value.value is True:
        yield ast.keyword(node.arg, ast.Constant(False)), f"{node.arg}=True -> False"


_COPIES = ("copy", "clone", "np.copy", "numpy.copy", "copy.deepcopy", "copy.copy", "np.array")


def _inplace(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.Call) and not node.keywords:
        name = _dotted(node.func)
        if name in _COPIES and len(node.args) == 1:
            yield node.args[0], f"{name}(...) dropped: the input is changed in place"
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("copy", "clone") \
                and not node.args:
            yield node.func.value, f".{node.func.attr}() dropped: the input is changed in place"
    if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.BinOp) \
            and isinstance(node.value.left, ast.Name) \
            and node.value.left.id == node.targets[0].id:
        target = ast.Name(node.targets[0].id, ast.Store())
        yield (ast.AugAssign(target, node.value.op, node.value.right),
               f"{target.id} updated in place")


def _drop_call(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield None, f"call {_dotted(node.value.func)}() dropped"


def _no_grad(node: ast.AST) -> Iterator[Proposal]:
    if isinstance(node, ast.With) and any(
            _dotted(item.context_expr.func if isinstance(item.context_expr, ast.Call)
                    else item.context_expr).endswith(("no_grad", "inference_mode"))
            for item in node.items):
        yield ast.If(ast.Constant(True), node.body, []), "no_grad block dropped"


#: In the order they take turns: the bugs particular to numerical code first.
OPERATORS: dict[str, Callable[[ast.AST], Iterator[Proposal]]] = {
    "drop_call": _drop_call, "no_grad": _no_grad, "inplace": _inplace,
    "transpose": _transpose, "reduction": _reduction, "axis": _axis, "sign": _sign,
    "compare": _compare, "swap": _swap, "drop_term": _drop_term, "constant": _constant,
}
#: Calls whose loss breaks training the most: their drop_call mutants come first.
_TRAINING_CALLS = ("zero_grad", "step", "backward")


def _nodes(node: ast.AST, path: Path_ = ()) -> Iterator[tuple[Path_, ast.AST]]:
    """Every node under ``node`` in source order, with its path from ``node``."""
    for field, value in ast.iter_fields(node):
        if field in ("decorator_list", "returns", "type_comment", "annotation") or (
                field == "args" and isinstance(value, ast.arguments)):
            continue  # the signature (default values included) is the contract's, not a bug
        if isinstance(value, list):
            for k, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield (*path, (field, k)), item
                    yield from _nodes(item, (*path, (field, k)))
        elif isinstance(value, ast.AST):
            yield (*path, (field, None)), value
            yield from _nodes(value, (*path, (field, None)))


def _is_docstring(node: ast.AST) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _replaced(root: ast.AST, path: Path_, new: ast.AST | None) -> ast.AST:
    """A deep copy of ``root`` with the node at ``path`` replaced (None: a statement dropped,
    ``pass`` where the block would be empty)."""
    tree = copy.deepcopy(root)
    parent: ast.AST = tree
    for field, index in path[:-1]:
        child = getattr(parent, field)
        parent = child[index] if index is not None else child
    field, index = path[-1]
    if index is None:
        setattr(parent, field, new)
    elif new is None:
        items = getattr(parent, field)
        del items[index]
        if not items:
            items.append(ast.Pass())
    else:
        getattr(parent, field)[index] = new
    return ast.fix_missing_locations(tree)


def candidates(definition: ast.stmt) -> dict[str, list[tuple[Path_, ast.AST | None, str]]]:
    """Per operator, every (path, replacement, description) it proposes in ``definition``."""
    found: dict[str, list[tuple[Path_, ast.AST | None, str]]] = {name: [] for name in OPERATORS}
    for path, node in _nodes(definition):
        if _is_docstring(node) or isinstance(node, (ast.arg, ast.arguments)):
            continue
        for name, operator in OPERATORS.items():
            for new, description in operator(node):
                found[name].append((path, new, description))
    found["drop_call"].sort(key=lambda c: not c[2].endswith(
        tuple(f".{call}() dropped" for call in _TRAINING_CALLS)))
    return found


def generate(source: str, functions: Sequence[str], cap: int = DEFAULT_CAP) -> list[Mutant]:
    """Up to ``cap`` mutants per name of ``functions`` defined at the top of ``source``."""
    module = ast.parse(source)
    texts = [ast.unparse(statement) for statement in module.body]
    mutants: list[Mutant] = []
    for index, node in enumerate(module.body):
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name not in functions:
            continue
        original = texts[index]
        seen = {original}
        queues = [(name, list(q)) for name, q in candidates(node).items() if q]
        made = 0
        while queues and made < cap:
            operator, queue = queues.pop(0)
            path, new, description = queue.pop(0)
            if queue:
                queues.append((operator, queue))
            changed = _replaced(node, path, new)
            text = ast.unparse(changed)
            if text in seen or not _compiles(text):
                continue
            seen.add(text)
            made += 1
            body = [*texts[:index], text, *texts[index + 1:]]
            mutants.append(Mutant(
                name=f"{node.name}__{made:02d}_{operator}", function=node.name,
                operator=operator,
                description=description,
                source="\n\n".join(body) + "\n",
                diff=unified_diff(original, text, node.name)))
    return mutants


def _compiles(text: str) -> bool:
    try:
        compile(text, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def unified_diff(before: str, after: str, name: str) -> str:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(),
                                 f"reference: {name}", f"mutant: {name}", lineterm="", n=1)
    return "\n".join(lines)
