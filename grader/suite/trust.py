"""A hidden suite must decide on grader-side facts (docs/authoring-suites.md): the checks here
find, in its source, the two plain ways a suite trusts the student's process instead.

1. **Both sides from the worker**: a comparison (``assert a == b``, ``check(a < b, ...)``,
   ``check_close(a, b)``, ``np.allclose(a, b)``, ``np.testing.assert_*(a, b)``, ...) whose every
   side is a value the student's process computed: reached from the ``student`` fixture, or a
   name assigned from one. A student who controls both sides passes it whatever they compute
   (``losses[-1] < losses[0]`` from their own ``train``; ``student.f(x) == student.g(x)``).
2. **A reference read from the student's globals**: ``student.NAME`` read as a value (not
   called) or ``student.get("NAME")``, where ``NAME`` is none of the assignment's functions
   nor the proxy's own methods: the student defines it.

It is a simple, local check, honest about what it sees: it follows names within one function
(a value handed to a helper is not followed), and a comparison with any grader-side operand (a
constant, the suite's own reference, the test's inputs) is not flagged; a value passed through
one of the suite's own functions (``ref_loss(params)``, ``layers_of(...)``) counts as the
grader's computation unless that function is handed ``student`` itself. ``grade validate``
reports each finding as a problem of the assignment (grader.commands.consistency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

#: The student proxy's own methods (grader.submission.proxy.StudentProxy): not globals.
PROXY_METHODS = frozenset({"call", "call_method", "get", "defines", "probe", "type_name"})
#: Calls that compare their first two arguments.
COMPARING = frozenset({"check_close", "allclose", "isclose", "array_equal", "assert_allclose",
                       "assert_array_equal", "assert_array_almost_equal", "assert_equal",
                       "assert_almost_equal", "assert_close", "equal"})
STUDENT = "student"


def trusting(path: Path, functions: Sequence[str]) -> list[str]:
    """One line per place in the suite at ``path`` that trusts the worker (see above):
    "line N: test_name: what is wrong"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = frozenset(node.name for node in tree.body
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
    found: list[tuple[int, str]] = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for line, what in _in_function(function, frozenset(functions), own):
                found.append((line, f"line {line}: {function.name}: {what}"))
    return [text for _, text in sorted(set(found))]


def _in_function(function: ast.FunctionDef | ast.AsyncFunctionDef, functions: frozenset[str],
                 own: frozenset[str]) -> Iterator[tuple[int, str]]:
    tainted = _tainted(function, own)
    called = {id(node.func) for node in ast.walk(function) if isinstance(node, ast.Call)}
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and _is_student(node.value) \
                and id(node) not in called \
                and node.attr not in functions and node.attr not in PROXY_METHODS:
            yield node.lineno, (f"reads student.{node.attr}, which the student defines (not a "
                                "function of the assignment): compute the reference in the "
                                "grader")
        if isinstance(node, ast.Call) and _called(node) == "get" and \
                isinstance(node.func, ast.Attribute) and _is_student(node.func.value) and \
                node.args and isinstance(node.args[0], ast.Constant) and \
                node.args[0].value not in functions:
            yield node.lineno, (f"reads student.get({node.args[0].value!r}), which the student "
                                "defines: compute the reference in the grader")
        sides = _compared(node)
        if len(sides) >= 2 and all(_worker_value(side, tainted, own) for side in sides):
            yield node.lineno, ("compares values that all come from the student's process; "
                                "compare with a value the grader computed")


def _is_student(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == STUDENT


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else \
        func.id if isinstance(func, ast.Name) else ""


def _compared(node: ast.AST) -> list[ast.expr]:
    """The sides a node compares: a comparison's operands, a comparing call's first two
    arguments (``check(a == b, ...)`` is found as the comparison inside it)."""
    if isinstance(node, ast.Compare):
        if any(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for op in node.ops):
            return []
        return [node.left, *node.comparators]
    if isinstance(node, ast.Call) and _called(node) in COMPARING and len(node.args) >= 2:
        return list(node.args[:2])
    return []


def _worker_value(node: ast.expr, tainted: set[str], own: frozenset[str]) -> bool:
    """Whether ``node`` is a value of the student's process: it uses ``student`` or a tainted
    name outside the arguments of the suite's own functions (``ref_loss(params)`` is the
    grader's computation from the student's params: a grader fact), unless such a call is
    handed ``student`` itself (``student_train(student, ...)`` returns what the student did)."""
    if isinstance(node, ast.Name):
        return node.id in tainted
    if isinstance(node, ast.Call) and _called(node) in own:
        return any(_is_student(arg) for arg in node.args)
    return any(_worker_value(child, tainted, own) for child in ast.iter_child_nodes(node)
               if isinstance(child, ast.expr))


def _tainted(function: ast.FunctionDef | ast.AsyncFunctionDef, own: frozenset[str]
             ) -> set[str]:
    """``student`` and the names assigned (in any order, until nothing changes) from an
    expression that uses it or another such name."""
    tainted = {STUDENT}
    assignments: list[tuple[list[ast.expr], ast.expr]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                assignments += _split(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            assignments.append(([node.target], node.value))
        elif isinstance(node, (ast.For, ast.comprehension)):
            assignments += _split(node.target, node.iter)
        elif isinstance(node, ast.NamedExpr):
            assignments.append(([node.target], node.value))
    changed = True
    while changed:
        changed = False
        for targets, value in assignments:
            if not _worker_value(value, tainted, own):
                continue
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id not in tainted:
                        tainted.add(name.id)
                        changed = True
    return tainted


def _split(target: ast.expr, value: ast.expr) -> list[tuple[list[ast.expr], ast.expr]]:
    """``target = value`` (or ``for target in value``) as pairs of parts where their shapes
    match: ``a, b = x, y``; ``for (w, b), (rw, rb) in zip(params, reference)``;
    ``for i, pair in enumerate(xs)``. A student value zipped with the grader's own does not
    make the grader's part the student's."""
    if isinstance(target, (ast.Tuple, ast.List)):
        parts = target.elts
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(parts):
            return [pair for t, v in zip(parts, value.elts, strict=True)
                    for pair in _split(t, v)]
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            if value.func.id == "zip" and len(value.args) == len(parts):
                return [pair for t, v in zip(parts, value.args, strict=True)
                        for pair in _split(t, v)]
            if value.func.id == "enumerate" and len(parts) == 2 and value.args:
                return _split(parts[1], value.args[0])
    return [([target], value)]
