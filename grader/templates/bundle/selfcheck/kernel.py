"""``check()`` in a notebook: the public tests on the kernel's current definitions.

The tests run on what you ran (the kernel's global names), through the grader's own worker
code (:mod:`selfcheck.local`). The grader, though, grades the saved file: ``check`` also loads
the saved notebook the way the grader does and says which of your functions and classes would
load differently ("relu in the saved notebook differs from the one in your kernel").
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.errors import GraderError
from grader.core.feedback import explain, plain_text
from grader.core.results import PASSED, TestResult
from grader.core.text import block
from grader.submission.proxy import StudentProxy
from grader.submission.session import StudentError
from grader.submission.student import load_student_module
from selfcheck.local import LocalSession
from selfcheck.public import ASSIGNMENTS, BUNDLE, find_notebook, functions_of, run_public

#: Runs in the worker (as the grader's probes do): a fingerprint per function or class that
#: ignores where it was defined (cell, line) but not what it does: its bytecode, constants,
#: names, defaults, methods and bases.
FINGERPRINT = '''
import hashlib
import re
import types

_SKIP = {"__dict__", "__weakref__", "__module__", "__qualname__", "__firstlineno__",
         "__static_attributes__"}


def _code(code):
    consts = tuple(_code(c) if isinstance(c, types.CodeType) else repr(c)
                   for c in code.co_consts)
    return (code.co_name, code.co_code, consts, code.co_names, code.co_varnames,
            code.co_freevars, code.co_argcount, code.co_posonlyargcount,
            code.co_kwonlyargcount, code.co_flags & 0xFF)


def _key(value, depth=0):
    if depth > 6:
        return ("deep",)
    if isinstance(value, (staticmethod, classmethod)):
        return (type(value).__name__, _key(value.__func__, depth + 1))
    if isinstance(value, property):
        return ("property",) + tuple(_key(f, depth + 1) for f in (value.fget, value.fset))
    if isinstance(value, types.FunctionType):
        wrapped = getattr(value, "__wrapped__", None)
        return ("function", _code(value.__code__), repr(value.__defaults__),
                repr(value.__kwdefaults__), None if wrapped is None else _key(wrapped, depth + 1))
    if isinstance(value, type):
        members = sorted(((k, _key(v, depth + 1)) for k, v in vars(value).items()
                          if k not in _SKIP), key=lambda item: item[0])
        return ("class", value.__name__, tuple(b.__name__ for b in value.__bases__),
                tuple(members))
    return ("value", type(value).__name__, re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))[:300])


def probe(names, discover):
    """{name: fingerprint}; None: not defined, "": not a function or class. ``discover``
    adds every function and class the module itself defines."""
    wanted = list(names)
    if discover:
        own = student.__name__
        wanted += [n for n, v in vars(student).items() if not n.startswith("__")
                   and isinstance(v, (types.FunctionType, type))
                   and getattr(v, "__module__", None) == own]
    found = {}
    for name in dict.fromkeys(wanted):
        value = getattr(student, name, None)
        if value is None:
            found[name] = None
        elif isinstance(value, (types.FunctionType, type)):
            found[name] = hashlib.sha256(repr(_key(value)).encode()).hexdigest()[:16]
        else:
            found[name] = ""
    return found
'''


@dataclass
class CheckResult:
    """What ``check`` found; true when every selected public check passed. Its words are the
    grader's (grader.core.feedback): the same cause line as the graded feedback."""

    label: str
    outcomes: list[TestResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> int:
        return sum(o.status == PASSED for o in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    def __bool__(self) -> bool:
        return not self.error and self.total > 0 and self.passed == self.total

    def details(self) -> str:
        """Per function: its cause line and failed checks; unattempted ones on one line."""
        explanation = explain(self.outcomes, self.notes, functions=self.functions)
        text = plain_text(explanation, self.notes, clean=block, points=False)
        return "\n".join("  " + line if line else line for line in text.splitlines())

    def summary(self) -> str:
        if self.error:
            lines = [f"{self.label}: the self-check could not run: {self.error}"]
        elif not self.outcomes:
            lines = [f"{self.label}: no public checks found"]
        else:
            lines = [f"{self.label}: {self.passed}/{self.total} public checks passed"]
            lines.append(self.details())
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(line for line in lines if line)

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
        defined = {a: sum(f in namespace for f in functions_of(a)) for a in candidates}
        best = max(defined.values())
        candidates = [a for a in candidates if defined[a] == best]
    if len(candidates) != 1:
        known = ", ".join(ASSIGNMENTS)
        raise ValueError(f"cannot tell which assignment {name!r} belongs to; "
                         f"say it: check({name!r}, assignment=...) with one of {known}")
    return candidates[0]


def saved_notebook(assignment: str, namespace: dict[str, Any]) -> Path | None:
    """The file this kernel's notebook is saved in (as Jupyter or VS Code tell the kernel),
    else the notebook the self-check would pick in the assignment's folder."""
    for key in ("__vsc_ipynb_file__", "__session__"):
        value = namespace.get(key)
        if isinstance(value, str) and value.endswith(".ipynb") and Path(value).is_file():
            return Path(value)
    return find_notebook(BUNDLE / assignment, assignment)


def drift(assignment: str, kernel: StudentProxy, namespace: dict[str, Any]) -> list[str]:
    """How the saved notebook, loaded as the grader loads it, differs from the kernel."""
    path = saved_notebook(assignment, namespace)
    if path is None:
        return [f"no saved notebook found in {assignment}/ to compare with your kernel"]
    module, error = load_student_module(path, functions_of(assignment))
    if error is not None:
        return [f"the grader cannot read the saved notebook: {error}"]
    saved_session = LocalSession(list(module.statements))
    try:
        ready = saved_session.ensure_ready()
        saved = StudentProxy(saved_session).probe(FINGERPRINT, functions_of(assignment), True)
    finally:
        saved_session.close()
    mine = kernel.probe(FINGERPRINT, list(saved), False)
    warnings = [f"loading the saved {path.name} as the grader does: {e}" for e in ready.errors]
    for name, fingerprint in saved.items():
        current = mine.get(name)
        if not current:
            continue  # not run in this kernel (the checks say so), or not a function
        if fingerprint is None:
            warnings.append(f"{name} is in your kernel but not in the saved {path.name}: "
                            "save the notebook before you push")
        elif fingerprint and fingerprint != current:
            warnings.append(f"{name} in the saved notebook differs from the one in your "
                            "kernel: save the notebook before you push")
    return warnings


def check(name: str | None = None, *, assignment: str | None = None,
          namespace: dict[str, Any] | None = None) -> CheckResult:
    """Run the public checks of function ``name`` (all of them without a name) on the caller's
    global names, print a short pass/fail summary with each failure's cause line (the
    grader's words), and warn when the saved notebook would load differently. Never raises
    (but for Ctrl-C): whatever goes wrong is printed, so Restart & Run All goes on; the
    result is false then."""
    if namespace is None:
        frame = inspect.currentframe()
        namespace = frame.f_back.f_globals if frame and frame.f_back else {}
    try:
        result = _check(name, assignment, namespace)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a Run All never stops at the self-check
        result = CheckResult(name or assignment or "check()", error=f"{exc}".strip()
                             or type(exc).__name__)
    print(result.summary())
    return result


def _check(name: str | None, assignment: str | None, namespace: dict[str, Any]
           ) -> CheckResult:
    assignment = assignment or _assignment_for(name, namespace)
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r} (known: {', '.join(ASSIGNMENTS)})")
    only = None if name in (None, assignment) else name
    functions = functions_of(assignment)
    if only is not None and only not in functions:
        raise ValueError(f"{only!r} is not a function of {assignment!r}: "
                         f"try one of {', '.join(functions)}")
    session = LocalSession([], namespace=namespace)
    try:
        outcomes = run_public(assignment, session, only)
        try:
            warnings = drift(assignment, StudentProxy(session), namespace)
        except (GraderError, StudentError) as exc:
            warnings = [f"could not compare your kernel with the saved notebook: {exc}"]
    finally:
        session.close()
    return CheckResult(only or assignment, outcomes, warnings, functions=functions)
