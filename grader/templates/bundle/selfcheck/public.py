"""Run an assignment's public tests on a notebook, with the grader's own code.

A notebook is read by the grader's extraction (``grader.submission.student``, the same call the
grader makes), its statements are loaded by the grader's worker code (:mod:`selfcheck.local`),
and the public tests run with the grader's pytest plugin (``grader.submission.plugin``: the same
``student``, ``seed``, ``rng`` and ``device`` fixtures and the same verdicts). The copies of
those grader modules are in ``selfcheck/vendor/grader/``, unchanged.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.results import PASSED, TestResult
from grader.extract.read import notebook_assignment
from grader.submission.plugin import PUBLIC_SEED, GradingPlugin, load_notes, run_tests
from grader.submission.session import WorkerSession
from grader.submission.student import load_student_module
from selfcheck.local import LocalSession

#: The top of the released bundle: the folder that holds ``selfcheck/``.
BUNDLE = Path(__file__).resolve().parent.parent
ASSIGNMENTS: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "assignments.json").read_text(encoding="utf-8"))


class SelfCheckError(Exception):
    """The self-check itself cannot run (an unknown assignment, public tests that break)."""


def functions_of(assignment: str) -> list[str]:
    return list(ASSIGNMENTS[assignment]["functions"])


def find_notebook(folder: Path, assignment: str) -> Path | None:
    """``<id>.ipynb`` in the assignment folder, else the newest other notebook there."""
    preferred = folder / f"{assignment}.ipynb"
    if preferred.is_file():
        return preferred
    others = sorted((p for p in folder.glob("*.ipynb") if not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    return others[0] if others else None


def assignment_of(path: Path) -> str | None:
    """A notebook's assignment: its folder's name, else the id the stub stored in it."""
    folder = path.resolve().parent.name
    return folder if folder in ASSIGNMENTS else notebook_assignment(path)


def snake_case(name: str) -> str:
    """``TwoHiddenLayerNet`` -> ``two_hidden_layer_net``, ``SimpleNN`` -> ``simple_nn``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def test_owner(test_name: str, functions: list[str]) -> str | None:
    """The function a public test checks: the longest ``f`` with ``test_name`` = test_f[_...]
    (``f`` as written, or in snake case for a class: ``test_simple_nn_...`` is SimpleNN's)."""
    name = test_name.split("[")[0]
    owners = [f for f in functions for form in {f, snake_case(f)}
              if name == f"test_{form}" or name.startswith(f"test_{form}_")]
    return max(owners, key=len) if owners else None


def public_targets(assignment: str, only: str | None = None) -> list[str]:
    """What pytest runs: the public folder, or the node ids of function ``only``'s tests."""
    folder = BUNDLE / assignment / "public"
    if only is None:
        return [str(folder)]
    targets = []
    for path in sorted(folder.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets.extend(f"{path}::{node.name}" for node in tree.body
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and test_owner(node.name, functions_of(assignment)) == only)
    return targets


def run_public(assignment: str, session: WorkerSession, only: str | None = None
               ) -> list[TestResult]:
    """``assignment``'s public tests (those of function ``only``) against ``session``."""
    targets = public_targets(assignment, only)
    if not targets:
        return []
    plugin = GradingPlugin(session, PUBLIC_SEED, "cpu")
    run_tests(plugin, targets, BUNDLE, BUNDLE / "pytest.ini", extra=("--noconftest",))
    if plugin.collection_errors:
        lines = [line for line in plugin.collection_errors[0].splitlines() if line.strip()]
        raise SelfCheckError(f"the public tests of {assignment} cannot run: "
                             f"{lines[-1].strip() if lines else 'collection failed'}")
    return plugin.results


@dataclass
class Outcome:
    """One notebook's public checks, and what the grader's loading of it says."""

    assignment: str
    notebook: Path | None
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    error: str | None = None
    source_sha256: str = ""

    @property
    def passed(self) -> bool:
        return all(t.status == PASSED for t in self.tests)

    def as_json(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "notebook": str(self.notebook) if self.notebook else None,
            "error": self.error, "notes": self.notes, "loaded": self.loaded,
            "source_sha256": self.source_sha256,
            "tests": [{"name": t.name, "status": t.status, "description": t.description,
                       "message": t.message} for t in self.tests],
        }


def check_file(path: Path, assignment: str) -> Outcome:
    """Load ``path`` as the grader does and run all of ``assignment``'s public tests on it."""
    module, error = load_student_module(path, functions_of(assignment))
    outcome = Outcome(assignment, path, error=error,
                      source_sha256=hashlib.sha256(module.source.encode()).hexdigest())
    session = LocalSession(list(module.statements))
    try:
        outcome.notes = list(module.notes) + load_notes(session, "this machine")
        outcome.loaded = list(session.ready.defined) if session.ready is not None else []
        outcome.tests = run_public(assignment, session)
    finally:
        session.close()
    return outcome
