"""Self-check: run this course's public tests on your own notebook, on your own machine.

In a notebook cell (after running the cells that define your functions)::

    from selfcheck import check
    check("relu")          # the public checks of one function
    check()                # every public check of this notebook's assignment

From a terminal, at the top of your repository::

    python -m selfcheck    # every assignment folder's notebook, a summary per function
    python -m pytest       # the same public tests, pytest's own way

Only public tests run here: easy cases you can check by hand. Passing them is a good sign,
not a guarantee; the course's grader uses more inputs. Your code runs in your own Python
process (it is your own code on your own machine).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import inspect
import io
import json
import os
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CheckResult", "check", "load_notebook", "run_public_tests"]

#: The top of the released bundle: the folder that holds ``selfcheck/``.
BUNDLE = Path(__file__).resolve().parent.parent
ASSIGNMENTS: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "assignments.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- grader.suite


def _install_suite_alias() -> None:
    """Public tests may ``from grader.suite import check_close``: serve our copy of it."""
    try:
        found = importlib.util.find_spec("grader.suite") is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return
    from selfcheck import suite

    package = types.ModuleType("grader")
    package.__path__ = []  # a namespace-like package holding only ``suite``
    package.suite = suite  # type: ignore[attr-defined]
    sys.modules["grader"] = package
    sys.modules["grader.suite"] = suite


_install_suite_alias()


# --------------------------------------------------------------------------- the student's module


class NotDefined(AttributeError):
    """The notebook does not define a name a public test needs."""


class Student:
    """The ``student`` fixture: attribute access on the notebook's names."""

    def __init__(self, namespace: dict[str, Any], where: str) -> None:
        self._namespace = namespace
        self._where = where

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._namespace[name]
        except KeyError:
            raise NotDefined(f"`{name}` is not defined in {self._where}: run the cell that "
                             "defines it (or check its spelling)") from None


def _is_stub(node: ast.AST) -> bool:
    """A def whose body (after a docstring) only raises NotImplementedError."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in (
        ast.unparse(body[0].exc) if body[0].exc is not None else "")


def _cell_code(source: str) -> str:
    """A code cell without IPython magics and shell escapes."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = [line for line in source.splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _calls(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
               and sub.func.id in names for sub in ast.walk(node))


def load_notebook(path: Path) -> types.ModuleType:
    """The definitions of a notebook (or .py file) as a module.

    Kept: imports, functions, classes and assignments that do not call the notebook's own
    functions (demo cells that train or print are skipped). A function that only raises
    NotImplementedError never hides a real definition of the same name.
    """
    path = Path(path)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        sources = ["".join(c.get("source", "")) if isinstance(c.get("source"), list)
                   else str(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    else:
        sources = [path.read_text(encoding="utf-8")]
    statements: list[ast.stmt] = []
    for source in sources:
        try:
            statements.extend(ast.parse(_cell_code(source)).body)
        except SyntaxError:
            continue  # a broken cell: the tests of what it defines will say "not defined"
    defined = {n.name for n in statements
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    real = {n.name for n in statements
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_stub(n)}
    kept: list[ast.stmt] = []
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not (_is_stub(node) and node.name in real):
                kept.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not _calls(node, defined):
            kept.append(node)
    module = types.ModuleType(f"notebook_{path.stem}")
    module.__file__ = str(path)
    for node in kept:
        code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
        try:
            exec(code, module.__dict__)  # noqa: S102 - the student's own code, their machine
        except Exception:  # noqa: BLE001 - one broken line must not hide the others
            continue
    return module


def find_notebook(folder: Path, assignment: str) -> Path | None:
    """``<id>.ipynb`` in the assignment folder, else the newest other notebook there."""
    preferred = folder / f"{assignment}.ipynb"
    if preferred.is_file():
        return preferred
    others = sorted((p for p in folder.glob("*.ipynb") if not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    return others[0] if others else None


# --------------------------------------------------------------------------- running the tests


def test_owner(test_name: str, functions: list[str]) -> str | None:
    """The function a public test checks: the longest ``f`` with ``test_name`` = test_f[_...]."""
    owners = [f for f in functions
              if test_name == f"test_{f}" or test_name.startswith(f"test_{f}_")]
    return max(owners, key=len) if owners else None


def seed_for(test_name: str) -> int:
    """A fixed seed per public test (the same on every machine)."""
    return int.from_bytes(hashlib.sha256(test_name.encode()).digest()[:4], "big")


@dataclass
class Outcome:
    name: str
    description: str
    function: str | None
    passed: bool
    message: str = ""


def explain(error: BaseException | None) -> str:
    """What a failed public test tells the student: the check's message and hint."""
    if error is None:
        return "failed"
    if isinstance(error, NotImplementedError):
        return "not attempted yet: the function still raises NotImplementedError"
    if isinstance(error, NotDefined):
        return str(error)
    if isinstance(error, AssertionError):
        text = str(error.args[0]) if error.args and isinstance(error.args[0], str) else ""
        text = text.split("\nassert ")[0].strip()
        return text or "a check of your result failed"
    return f"your code raised {type(error).__name__}: {error}"


class _Plugin:
    """Fixtures ``student``, ``seed``, ``rng``, ``device``; the ``points`` marker; results."""

    def __init__(self, student: Student, functions: list[str], only: str | None) -> None:
        self._student = student
        self.functions = functions
        self.only = only
        self.outcomes: list[Outcome] = []

    def pytest_configure(self, config: Any) -> None:
        config.addinivalue_line("markers", "points(n): points the test is worth")

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        if self.only is None:
            return
        keep = [i for i in items if test_owner(i.originalname or i.name, self.functions)
                == self.only]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    @pytest.fixture
    def student(self) -> Student:
        return self._student

    @pytest.fixture
    def seed(self, request: Any) -> int:
        return seed_for(request.node.name)

    @pytest.fixture
    def rng(self, seed: int) -> Any:
        import numpy as np

        return np.random.default_rng(seed)

    @pytest.fixture
    def device(self) -> str:
        return "cpu"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Any:
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            doc = (getattr(item, "function", None).__doc__ or "").strip()
            error = call.excinfo.value if call.excinfo is not None else None
            self.outcomes.append(Outcome(
                name=item.name, description=doc.splitlines()[0] if doc else item.name,
                function=test_owner(item.originalname or item.name, self.functions),
                passed=report.passed, message="" if report.passed else explain(error)))


def run_public_tests(assignment: str, namespace: dict[str, Any], only: str | None = None,
                     where: str = "your notebook") -> list[Outcome]:
    """Run ``assignment``'s public tests (those of function ``only``) against ``namespace``."""
    functions = list(ASSIGNMENTS[assignment]["functions"])
    plugin = _Plugin(Student(namespace, where), functions, only)
    args = [str(BUNDLE / assignment / "public"), "-q", "--noconftest", "--capture=sys",
            "-p", "no:cacheprovider", "-p", "no:faulthandler", "-p", "no:randomly",
            "--rootdir", str(BUNDLE), "-c", str(BUNDLE / "pytest.ini"),
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[plugin])
    return plugin.outcomes


# --------------------------------------------------------------------------- check()


@dataclass
class CheckResult:
    """What ``check`` found; true when every selected public check passed."""

    label: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    def __bool__(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def summary(self) -> str:
        if not self.outcomes:
            return f"{self.label}: no public checks found"
        mark = "all passed" if self else "see below"
        lines = [f"{self.label}: {self.passed}/{self.total} public checks passed"
                 + ("" if self else f" ({mark})")]
        for o in self.outcomes:
            if not o.passed:
                message = o.message.replace("\n", "\n      ")
                lines.append(f"  FAILED {o.description}\n      {message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _ipython_display_(self) -> None:
        """Already printed by ``check``: show nothing twice in a notebook."""


def _assignment_for(name: str | None, namespace: dict[str, Any]) -> str:
    if name in ASSIGNMENTS:
        return str(name)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if folder.name in ASSIGNMENTS and (folder / "public").is_dir():
            return folder.name
    candidates = [a for a, meta in ASSIGNMENTS.items()
                  if name is None or name in meta["functions"]]
    if len(candidates) > 1:
        defined = {a: sum(f in namespace for f in ASSIGNMENTS[a]["functions"])
                   for a in candidates}
        best = max(defined.values())
        candidates = [a for a in candidates if defined[a] == best]
    if len(candidates) != 1:
        known = ", ".join(ASSIGNMENTS)
        raise ValueError(f"cannot tell which assignment {name!r} belongs to; "
                         f"say it: check({name!r}, assignment=...) with one of {known}")
    return candidates[0]


def check(name: str | None = None, *, assignment: str | None = None,
          namespace: dict[str, Any] | None = None) -> CheckResult:
    """Run the public checks of function ``name`` (all of them without a name) and print
    a short pass/fail summary with each failure's hint. Uses the caller's global names."""
    if namespace is None:
        frame = inspect.currentframe()
        namespace = frame.f_back.f_globals if frame and frame.f_back else {}
    assignment = assignment or _assignment_for(name, namespace)
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r} (known: {', '.join(ASSIGNMENTS)})")
    only = None if name in (None, assignment) else name
    functions = ASSIGNMENTS[assignment]["functions"]
    if only is not None and only not in functions:
        raise ValueError(f"{only!r} is not a function of {assignment!r}: "
                         f"try one of {', '.join(functions)}")
    result = CheckResult(only or assignment, run_public_tests(assignment, namespace, only))
    print(result.summary())
    return result


# --------------------------------------------------------------------------- terminal / CI


def check_folder(assignment: str, root: Path = BUNDLE) -> tuple[Path | None, list[Outcome]]:
    """Load ``root/<assignment>``'s notebook and run all its public tests."""
    notebook = find_notebook(root / assignment, assignment)
    if notebook is None:
        return None, []
    module = load_notebook(notebook)
    return notebook, run_public_tests(assignment, vars(module), where=notebook.name)


def markdown_report(rows: list[tuple[str, Path | None, list[Outcome]]]) -> str:
    """The public checks' results as Markdown (for a CI step summary)."""
    lines = ["## Public checks (advisory)", "",
             "These are the easy public tests only; the course grader decides the score.", ""]
    for assignment, notebook, outcomes in rows:
        passed = sum(o.passed for o in outcomes)
        where = f"`{notebook.name}`" if notebook else "no notebook found"
        lines.append(f"### {assignment}: {passed}/{len(outcomes)} passed ({where})")
        lines.append("")
        for o in outcomes:
            status = "passed" if o.passed else "FAILED"
            message = " ".join(o.message.split()).replace("|", "\\|")
            lines.append(f"- {status}: {o.description}" + (f": {message}" if message else ""))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m selfcheck",
                                     description="Run the public checks on your notebooks.")
    parser.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a public check fails (default: always 0)")
    options = parser.parse_args(argv)
    wanted = options.assignments or [a for a in ASSIGNMENTS if (BUNDLE / a).is_dir()]
    rows = []
    failed = False
    for assignment in wanted:
        if assignment not in ASSIGNMENTS:
            parser.error(f"unknown assignment {assignment!r} (known: {', '.join(ASSIGNMENTS)})")
        notebook, outcomes = check_folder(assignment)
        rows.append((assignment, notebook, outcomes))
        if notebook is None:
            print(f"{assignment}: no notebook found in {assignment}/")
            continue
        for function in ASSIGNMENTS[assignment]["functions"]:
            mine = [o for o in outcomes if o.function == function]
            if mine:
                print(CheckResult(function, mine).summary())
        failed = failed or not all(o.passed for o in outcomes)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(markdown_report(rows) + "\n")
    return 1 if options.strict and failed else 0
