"""The assignment's own consistency, checked statically before ``grade validate`` grades anything.

An assignment is a handful of files that must agree on the contract's function names
(``functions`` in ``assignment.toml``): the reference defines each of them, the stub leaves
each of them (and nothing else) for the student to write, the public tests call only them,
every hidden test is named ``test_<function>__<aspect>`` after one of them and is worth points,
the points add up to the assignment's maximum, and every hand-written mutant defines the
function its ``# breaks:`` header names, differently from the reference. Each problem is one
line that starts with the file at fault (relative to the course root).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.core.course import Assignment
from grader.core.results import CRASHED, FAILED, TIMED_OUT, SubmissionResult
from grader.extract.stub import stub_text
from grader.submission.student import load_student_module
from grader.suite.trust import trusting

#: What ``grade new --functions`` leaves where the author still has to write something.
PLACEHOLDER = "TODO(grade new)"
#: The failure of a test whose function the submission does not define (grader.worker.remote).
MISSING_NAME = re.compile(r"^Your code raised NameError: \S+ is not defined in your notebook")
_POINTS = ("pytest", "mark", "points")
#: The statuses of a test that caught a bug (not "not attempted", not a grader error).
CAUGHT = (FAILED, CRASHED, TIMED_OUT)


@dataclass(frozen=True)
class HiddenTest:
    """One test of the hidden suite as written: its name, function and points."""

    name: str
    function: str  # "" when the name does not follow test_<function>__<aspect>
    points: float | None  # None: no readable @pytest.mark.points(n)


@dataclass(frozen=True)
class Reference:
    """The reference as the grader extracts it: its module's source and top-level defs."""

    source: str
    defs: dict[str, ast.stmt]


def function_of(test_name: str) -> str:
    """``test_tanh_grad__values`` -> ``tanh_grad``; "" when the name has no ``__``."""
    name = test_name.removeprefix("test_")
    return name.split("__")[0] if "__" in name else ""


def caught(result: SubmissionResult, functions: set[str] | frozenset[str]) -> bool:
    """Whether a test of one of ``functions`` lost points because it caught a bug: failed,
    crashed or timed out, not because the function is missing from the submission."""
    return any(function_of(t.name) in functions and t.score < t.max_score
               and t.status in CAUGHT and not MISSING_NAME.match(t.message)
               for t in result.tests)


def relative(assignment: Assignment, path: Path) -> str:
    try:
        return str(path.relative_to(assignment.root))
    except ValueError:
        return str(path)


def load_reference(assignment: Assignment) -> Reference:
    """The reference's graded module (the grader's own extraction); CourseError-free: an
    unreadable reference gives an empty module and validate reports it."""
    module, _ = load_student_module(assignment.reference, assignment.functions)
    source = module.source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return Reference(source, {})
    return Reference(source, top_level_defs(tree.body))


def top_level_defs(body: Sequence[ast.stmt]) -> dict[str, ast.stmt]:
    return {node.name: node for node in body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def hidden_tests(suite: Path) -> list[HiddenTest]:
    """Every ``test_*`` function of the suite (module level and in ``Test*`` classes)."""
    tree = ast.parse(suite.read_text(encoding="utf-8"), filename=str(suite))
    nodes: list[ast.stmt] = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            nodes += node.body
    return [HiddenTest(node.name, function_of(node.name), _points(node)) for node in nodes
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test_")]


def _points(node: ast.FunctionDef | ast.AsyncFunctionDef) -> float | None:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and _dotted(decorator.func)[-2:] == _POINTS[-2:]:
            args = decorator.args
            if len(args) == 1 and isinstance(args[0], ast.Constant) and isinstance(
                    args[0].value, (int, float)) and not isinstance(args[0].value, bool):
                return float(args[0].value)
            return None
    return None


def _dotted(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Attribute):
        return (*_dotted(node.value), node.attr)
    return (node.id,) if isinstance(node, ast.Name) else ()


def check_consistency(assignment: Assignment, reference: Reference,
                      mutants: Sequence[Path]) -> list[str]:
    """One line per inconsistency, each starting with the file at fault."""
    return [*check_reference(assignment, reference), *check_stub(assignment),
            *check_public(assignment, reference), *check_hidden(assignment),
            *check_placeholders(assignment),
            *(line for path in mutants for line in check_mutant(assignment, reference, path))]


def check_reference(assignment: Assignment, reference: Reference) -> Iterator[str]:
    toml = relative(assignment, assignment.folder / "assignment.toml")
    if not assignment.functions:
        yield f"{toml}: functions is empty: name the functions students write"
    for name in assignment.functions:
        if name not in reference.defs:
            yield (f"{toml}: functions names {name!r}, which the reference "
                   f"{relative(assignment, assignment.reference)} does not define")


def check_stub(assignment: Assignment) -> Iterator[str]:
    where = relative(assignment, assignment.stub)
    if not assignment.stub.is_file():
        yield f"{where}: missing: run `grade stubs`"
        return
    text = assignment.stub.read_text(encoding="utf-8")
    if text != stub_text(assignment.reference, assignment.id):
        yield f"{where}: out of date with the reference: run `grade stubs`"
    defs = top_level_defs(_notebook_code(assignment.stub))
    for name in assignment.functions:
        if name not in defs:
            yield f"{where}: does not define {name!r}, which assignment.toml names"
    for name, node in defs.items():
        if name not in assignment.functions and _left_to_write(node):
            yield (f"{where}: leaves {name!r} for students to write, but assignment.toml's "
                   f"functions do not name it (no test grades it)")


def _notebook_code(path: Path) -> list[ast.stmt]:
    body: list[ast.stmt] = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type == "code":
            try:
                body += ast.parse(cell.source).body
            except SyntaxError:
                continue
    return body


def _left_to_write(node: ast.stmt) -> bool:
    return any(isinstance(sub, ast.Raise) and sub.exc is not None
               and "NotImplementedError" in ast.unparse(sub.exc) for sub in ast.walk(node))


def check_public(assignment: Assignment, reference: Reference) -> Iterator[str]:
    for path in sorted(assignment.public_dir.glob("test_*.py")):
        where = relative(assignment, path)
        try:
            names = _student_names(ast.parse(path.read_text(encoding="utf-8")))
        except SyntaxError as exc:
            yield f"{where}: line {exc.lineno}: {exc.msg}"
            continue
        for name in sorted(names):
            if name not in assignment.functions:
                yield (f"{where}: calls student.{name}, which assignment.toml's functions "
                       f"do not name")
            elif name not in reference.defs:
                yield f"{where}: calls student.{name}, which the reference does not define"


def _student_names(tree: ast.AST) -> set[str]:
    """Names the tests reach on ``student``: ``student.f`` and ``student.call("f", ...)``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "student" and node.attr not in ("call", "probe"):
            names.add(node.attr)
        if isinstance(node, ast.Call) and _dotted(node.func) == ("student", "call") \
                and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return names


def check_hidden(assignment: Assignment) -> Iterator[str]:
    where = relative(assignment, assignment.hidden_suite)
    if not assignment.hidden_suite.is_file():
        yield f"{where}: missing: the hidden suite grades the assignment"
        return
    try:
        tests = hidden_tests(assignment.hidden_suite)
    except SyntaxError as exc:
        yield f"{where}: line {exc.lineno}: {exc.msg}"
        return
    points: dict[str, float] = dict.fromkeys(assignment.functions, 0.0)
    for test in tests:
        if not test.function:
            yield (f"{where}: {test.name} does not name the function it grades: call it "
                   f"test_<function>__<aspect>")
        elif test.function not in assignment.functions:
            yield (f"{where}: {test.name} grades {test.function!r}, which "
                   f"assignment.toml's functions do not name")
        if test.points is None or test.points < 0:
            yield f"{where}: {test.name} has no @pytest.mark.points(n) with a number n >= 0"
        elif test.function in points:
            points[test.function] += test.points
    for name, total in points.items():
        if total <= 0:
            yield f"{where}: no test worth points grades {name!r}"
    for line in trusting(assignment.hidden_suite, assignment.functions):
        yield f"{where}: {line}"
    total = sum(t.points or 0.0 for t in tests)
    if abs(total - assignment.max_score) > 1e-9:
        yield f"{where}: the points add up to {total:g}, not {assignment.max_score:g}"


def check_placeholders(assignment: Assignment) -> Iterator[str]:
    files = [assignment.reference, assignment.hidden_suite,
             *sorted(assignment.public_dir.glob("*.py"))]
    for path in files:
        count = path.read_text(encoding="utf-8").count(PLACEHOLDER) if path.is_file() else 0
        if count:
            yield (f"{relative(assignment, path)}: {count} {PLACEHOLDER} placeholder(s) left "
                   f"to fill in")


def breaks_of(path: Path) -> tuple[bool, list[str]]:
    """(whether the ``# mutant:`` header is there, the names on the ``# breaks:`` line)."""
    text = path.read_text(encoding="utf-8")
    has_header = re.search(r"^# mutant: \S", text, re.M) is not None
    match = re.search(r"^# breaks: (.+)$", text, re.M)
    names = [n.strip() for n in match.group(1).split(",") if n.strip()] if match else []
    return has_header, names


def check_mutant(assignment: Assignment, reference: Reference, path: Path) -> Iterator[str]:
    where = relative(assignment, path)
    has_header, breaks = breaks_of(path)
    if not has_header:
        yield f"{where}: no '# mutant: <what it gets wrong>' header"
    if not breaks:
        yield f"{where}: no '# breaks: <function>' header"
    try:
        body = ast.parse(path.read_text(encoding="utf-8")).body
    except SyntaxError as exc:
        yield f"{where}: line {exc.lineno}: {exc.msg}"
        return
    defs = top_level_defs(body)
    for name in breaks:
        if name not in assignment.functions:
            yield f"{where}: breaks {name!r}, which assignment.toml's functions do not name"
        elif name not in defs:
            yield f"{where}: breaks {name!r} but does not define it"
        elif name not in reference.defs:
            yield f"{where}: breaks {name!r}, which the reference does not define"
    # the bug is in one of them or in what they use (a helper, a table of functions)
    if breaks and not differs(body, ast.parse(reference.source).body, breaks):
        yield (f"{where}: defines {', '.join(breaks)} as the reference does: "
               f"nothing its '# breaks:' header names is broken")


def differs(mutant: Sequence[ast.stmt], reference: Sequence[ast.stmt],
            names: Sequence[str]) -> bool:
    """Whether the mutant's code for ``names``, with every top-level name they use (helpers,
    tables, constants: transitively), differs from the reference's."""
    ours, theirs = bindings(mutant), bindings(reference)
    seen: set[str] = set()
    todo = [name for name in names if name in ours]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in theirs or not same_code(ours[name], theirs[name]):
            return True
        todo += [sub.id for sub in ast.walk(ours[name])
                 if isinstance(sub, ast.Name) and sub.id in ours]
    return False


def bindings(body: Sequence[ast.stmt]) -> dict[str, ast.stmt]:
    """Top-level defs, classes and plain ``NAME = ...`` assignments (the last one wins)."""
    found = {}
    for node in body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found |= {t.id: node for t in targets if isinstance(t, ast.Name)}
    return found | top_level_defs(body)


def same_code(a: ast.stmt, b: ast.stmt) -> bool:
    """Whether two definitions are the same code, docstrings and formatting aside."""
    return ast.dump(_without_docstrings(a)) == ast.dump(_without_docstrings(b))


def _without_docstrings(node: ast.stmt) -> ast.AST:
    tree = ast.parse(ast.unparse(node))  # a copy
    for sub in ast.walk(tree):
        body = getattr(sub, "body", None)
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            sub.body = body[1:] or [ast.Pass()]
    return tree
