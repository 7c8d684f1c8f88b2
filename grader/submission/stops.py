"""Remember what hung: a student function that timed out or killed its worker is not called again.

Within one submission, once a call into the student's code times out or the worker dies inside
it (memory cap, crash, exit), later requests that need the same thing fail at once with that
reason, without a new wait; everything else is graded as usual.

The grader sees only what it calls, never what the student's code calls inside, so it remembers
by the name of what it called (its *key*):

    student.sigmoid(x)            sigmoid
    student.SimpleNN()            SimpleNN              (the constructor)
    model(x)                      SimpleNN.__call__     (an object's methods by its class and name)
    model.call_method("fit", ..)  SimpleNN.fit
    model.fc1                     SimpleNN.fc1          (an attribute read can run a property)
    student.train_model(model,..) train_model[SimpleNN] (objects of the student's process among
                                                         the arguments: their methods may be what
                                                         hung, so their classes are in the key)
    student.probe(SOURCE, ..)     evaluate              when the suite's probe source names one
                                                        student function (student.evaluate;
                                                        its arguments' classes as above),
                                  probe:<hash>          else the probe itself

A request is refused when its own key, or its function's plain name, is remembered: after
``sigmoid`` hung, ``sigmoid`` and ``sigmoid[Box]`` are refused, ``sigmoid_grad`` is called
(nested calls are not traced: a ``sigmoid_grad`` that calls ``sigmoid`` hangs once more and is
remembered in turn, so k functions that never return cost k waits, never more). A probe is also
refused when a student function its source names is remembered.

A timeout is blamed on the call only when that call itself ran for at least half of the test's
budget (one that started with the budget nearly spent by other calls proves nothing), and never
when the submission's whole budget ran out.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from grader.core.errors import WorkerError
from grader.core.results import CRASHED, TIMED_OUT
from grader.submission.handles import handle_of

#: A timeout is blamed on a call that ran for at least this share of the test's budget.
BLAME_SHARE = 0.5


@dataclass(frozen=True)
class Subject:
    """What one request runs in the student's process: its key, the keys it needs (any of them
    remembered refuses it), and how the student reads it."""

    key: str
    needs: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Stop:
    """A key that hung or killed its worker, and where."""

    key: str
    label: str
    status: str  # TIMED_OUT or CRASHED
    reason: str  # "did not return within 2 s", "crashed the process running it (...)"
    test: str  # the test in which it happened

    def first_message(self) -> str:
        hint = " (an endless loop?)" if self.status == TIMED_OUT else ""
        return (f"{self.label} {self.reason}{hint}. Later tests that need {self.label} fail "
                "without calling it again.")

    def later_message(self) -> str:
        return f"{self.label} {self.reason} in an earlier test ({self.test}); not called again."


def seconds(value: float) -> str:
    """2 s, 0.5 s, 12.5 s."""
    return f"{value:.3g} s"


def timed_out(subject: Subject, budget_s: float, test: str, cpu: bool = False,
              wall_s: float | None = None) -> Stop:
    """A call that ran out of its test's budget of ``budget_s``: of CPU time where ``cpu``
    (grader.sandbox.clock), and then after ``wall_s`` of wall clock where that backstop ended it
    (None: the CPU budget did, or the budget is wall-clock time)."""
    if wall_s is not None:
        reason = (f"did not return within {seconds(wall_s)} (while using less than its "
                  f"{seconds(budget_s)} of CPU time: it waited or slept)")
    else:
        reason = f"did not return within {seconds(budget_s)}{' of CPU time' if cpu else ''}"
    return Stop(subject.key, subject.label, TIMED_OUT, reason, test)


def crashed(subject: Subject, error: WorkerError, test: str) -> Stop:
    return Stop(subject.key, subject.label, CRASHED,
                f"crashed the process running it ({error})", test)


# --------------------------------------------------------------------------- keys


def handle_types(values: Iterable[Any], depth: int = 0) -> list[str]:
    """The classes of the worker-side objects among ``values`` (in lists, tuples and dicts)."""
    found: list[str] = []
    for value in values:
        handle = handle_of(value)
        if handle is not None and isinstance(handle.type_name, str):
            found.append(handle.type_name)
        elif depth < 3 and isinstance(value, (list, tuple)):
            found += handle_types(value, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            found += handle_types(value.values(), depth + 1)
    return found


def function_subject(name: str, args: Iterable[Any] = ()) -> Subject:
    """A module-level function (or class, or value) of the student's module."""
    types = sorted(set(handle_types(args)))
    if not types:
        return Subject(name, (name,), name)
    key = f"{name}[{','.join(types)}]"
    return Subject(key, (key, name), f"{name} (given a {' and a '.join(types)} object)")


def method_subject(type_name: str, method: str, args: Iterable[Any] = ()) -> Subject:
    """``obj.method(...)`` (method "" calls the object) or an attribute read of ``obj``."""
    base = f"{type_name}.{method or '__call__'}"
    label = f"{type_name}'s forward call (model(x))" if not method else base
    types = sorted(set(handle_types(args)))
    if not types:
        return Subject(base, (base,), label)
    key = f"{base}[{','.join(types)}]"
    return Subject(key, (key, base), f"{label} (given a {' and a '.join(types)} object)")


def probe_subject(source: str, args: Iterable[Any] = ()) -> Subject:
    """A probe: the one student function its source names (as if called with ``args``), else
    the probe itself."""
    names = student_names(source)
    if len(names) == 1:
        return function_subject(names[0], args)
    key = "probe:" + hashlib.sha256(source.encode()).hexdigest()[:12]
    return Subject(key, (key, *names), "the grader's check code running in your process")


@functools.lru_cache(maxsize=64)
def student_names(source: str) -> tuple[str, ...]:
    """The ``student.<name>`` attributes a probe's source reads, sorted."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    return tuple(sorted({node.attr for node in ast.walk(tree)
                         if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                         and node.value.id == "student"}))


# --------------------------------------------------------------------------- across files


def code_digest(statements: Iterable[str]) -> str:
    """What decides whether two files run the same code: a digest of the statements graded."""
    text = "\n\n".join(statements)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Remembered:
    """What hung or crashed in a student's earlier files for one assignment, and what they
    used of the student's time budget (issue 22).

    Stops are carried to the student's next file only when that file runs the very same code
    (:func:`code_digest` of its graded statements: the same file handed in again, or as a
    notebook and as a ``.py``). Any change, a fixed function or a changed helper that a
    function calls, is graded afresh: a stop names only what the grader called, never what hung
    inside it, so it cannot tell a fixed resubmission from the same hang."""

    stops: dict[str, dict[str, Stop]] = field(default_factory=dict)
    #: CPU seconds the student's earlier files used (their workers' cgroups), and whether any
    #: was counted (else their budget runs on the wall clock: grader.sandbox.clock)
    cpu_s: float = 0.0
    cpu_counted: bool = False
    #: wall-clock seconds the next file may take at most: what the student's backstop has
    #: left (grader.run.budget sets it; None: no cap beyond the file's own)
    wall_cap_s: float | None = None

    def spent(self, cpu_s: float, counted: bool) -> None:
        """Add one file's CPU time (as its session counted it)."""
        self.cpu_s += cpu_s
        self.cpu_counted = self.cpu_counted or counted

    def for_file(self, code: str) -> dict[str, Stop]:
        """The stops that hold for a file whose :func:`code_digest` is ``code``."""
        return dict(self.stops.get(code, {}))

    def remember(self, stops: dict[str, Stop], code: str, file: str) -> None:
        """Keep a file's stops, told in which file they happened."""
        kept = self.stops.setdefault(code, {})
        for key, stop in stops.items():
            if key not in kept:
                where = (stop.test if " in your file " in stop.test
                         else f"{stop.test} in your file {file}")
                kept[key] = replace(stop, test=where)
