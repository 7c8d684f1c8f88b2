"""The import contract (pyproject.toml, ``[tool.importlinter]``): grader's packages import
downward only, in pipeline-stage order, with no cycle between the modules of any package.

The contract is checked with import-linter on the real package, and shown to bite: a copy of
the package with one import added that runs back up (or across independent siblings) breaks
it, and the report names both modules.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True, no_logo=True))")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` run in ``project`` on the ``grader`` package found there."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([sys.executable, "-c", LINT], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contract_holds() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("importer", "line", "imported"), [
    # core is the bottom layer: it may not reach up to a grading run
    ("grader/core/text.py", "from grader.run import discover", "grader.run.discover"),
    # the worker runs inside the sandbox: nothing of the grader's side
    ("grader/worker/remote.py", "import grader.core.errors", "grader.core.errors"),
    # extract and sandbox are independent siblings
    ("grader/extract/read.py", "from grader.sandbox import base", "grader.sandbox.base"),
])
def test_an_import_against_the_contract_fails_naming_both_modules(
        tmp_path: Path, importer: str, line: str, imported: str) -> None:
    shutil.copytree(ROOT / "grader", tmp_path / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert lint_imports(tmp_path).returncode == 0  # the copy holds, as the package does
    path = tmp_path / importer
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = lint_imports(tmp_path)
    module = importer.removesuffix(".py").replace("/", ".")
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert f"{module} -> {imported}" in done.stdout, done.stdout


#: Exceptions defined outside grader/core/errors.py, on purpose (see its docstring): a failed
#: check is pytest's AssertionError; the worker imports nothing from the grader.
OUTSIDE_THE_TREE = {("grader/suite/__init__.py", "Feedback"),
                    ("grader/worker/protocol/values.py", "WireError"),
                    ("grader/worker/protocol/values.py", "NotData"),
                    ("grader/worker/isolate.py", "IsolationError"),
                    ("grader/templates/bundle/selfcheck/public.py", "SelfCheckError")}


def exception_classes() -> set[tuple[str, str]]:
    """(file, class) for every class in grader/ whose base is an exception of the grader's
    tree or a built-in exception."""
    from grader.core import errors

    known = {name for name, kind in vars(errors).items()
             if isinstance(kind, type) and issubclass(kind, BaseException)}
    known |= {name for name, kind in vars(builtins).items()
              if isinstance(kind, type) and issubclass(kind, BaseException)}
    found = set()
    for path in sorted((ROOT / "grader").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "")
                     for b in node.bases}
            if bases & known:
                found.add((path.relative_to(ROOT).as_posix(), node.name))
    return found


def test_one_exception_tree() -> None:
    from grader.core import errors

    defined = exception_classes()
    elsewhere = {(f, name) for f, name in defined if f != "grader/core/errors.py"}
    assert elsewhere == OUTSIDE_THE_TREE
    documented = errors.__doc__ or ""
    tree = [kind for _, kind in inspect.getmembers(errors, inspect.isclass)
            if issubclass(kind, errors.NNGraderError)]
    assert len(tree) == len({name for f, name in defined if f == "grader/core/errors.py"})
    for kind in tree:
        assert f"── {kind.__name__} " in documented or kind is errors.NNGraderError, kind
    # three branches under one root
    branches = {kind for kind in tree if kind.__bases__ == (errors.NNGraderError,)}
    assert branches == {errors.GraderError, errors.SetupError, errors.Verdict}
    for verdict in (errors.StudentError, errors.NotAttempted, errors.StaleObject,
                    errors.WorkerCrashed, errors.ExtractionError):
        assert issubclass(verdict, errors.Verdict) and not issubclass(verdict, errors.GraderError)
    assert issubclass(errors.ConfigError, errors.SetupError) and errors.ConfigError.exit_code == 2
