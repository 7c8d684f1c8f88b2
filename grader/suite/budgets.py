"""Each hidden test's time budget, from the reference solution's own time on that test.

``grade validate`` measures, for every test of a hidden suite, the time the reference solution's
worker takes on it (the time the grader waits on the worker during that test, the largest of a
few students' inputs) and stores it in ``solutions/hidden/budgets.json`` under the suite's hash:

    {"suites": {"activations": {"suite_hash": "9f2c...", "worker_s": {"test_relu__values": 0.0012,
                                                                     ...}}}}

A test's budget is then, in this order:

1. ``--test-timeout-s`` (or ``GRADER_TEST_TIMEOUT_S``): overrides every budget;
2. the test's marker ``@pytest.mark.budget(seconds)``;
3. ``max(FLOOR_S, MULTIPLE x the reference's time)``;
4. DEFAULT_TEST_BUDGET_S when the suite has no measurement for its current hash (a new or
   changed suite before ``grade validate`` ran): ``grade`` says so.

On ``--device cuda`` every budget gets CUDA_EXTRA_S more: the measurement is made on the CPU,
and a worker's first CUDA call starts CUDA (seconds).

A budget counts only the time the grader waits on the worker: the suite's own work in the grader
(references, comparisons) and a worker's start and load are not the student's time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.course import Assignment
from grader.core.errors import CourseError
from grader.core.paths import write_atomic
from grader.core.settings import DEFAULT_TEST_BUDGET_S

FILE_NAME = "budgets.json"
#: A test's budget: this many times the reference's time on it ...
MULTIPLE = 50.0
#: ... and never less than this (slow but correct code on a busy machine).
FLOOR_S = 2.0
#: Added to every budget on --device cuda (the worker's first CUDA call starts CUDA).
CUDA_EXTRA_S = 30.0


@dataclass(frozen=True)
class Budgets:
    """The budgets of one suite's tests. ``stale``: why no measurement applies ("" if one does)."""

    worker_s: Mapping[str, float] = field(default_factory=dict)
    stale: str = ""
    override_s: float | None = None
    extra_s: float = 0.0

    def for_test(self, name: str, marker_s: float | None = None) -> float:
        if self.override_s is not None:
            return self.override_s
        if marker_s is not None:
            return marker_s + self.extra_s
        if name in self.worker_s:
            return rule(self.worker_s[name]) + self.extra_s
        return DEFAULT_TEST_BUDGET_S + self.extra_s


def rule(reference_s: float) -> float:
    """The budget of a test the reference's worker spends ``reference_s`` seconds on."""
    return max(FLOOR_S, MULTIPLE * reference_s)


def budgets_file(assignment: Assignment) -> Path:
    return assignment.hidden_suite.parent / FILE_NAME


def shipped(assignments: Iterable[Assignment]) -> dict[str, Path]:
    """The budgets files a bundle ships beside these assignments' suites (Gradescope, Classroom
    50), by POSIX path relative to the course root; without one a bundle grades with the
    default budget. Not a suite file: the suite hash does not cover its own measurement."""
    found = {}
    for assignment in assignments:
        path = budgets_file(assignment)
        if path.is_file():
            found[path.resolve().relative_to(assignment.root.resolve()).as_posix()] = path
    return found


def suite_budgets(assignment: Assignment, suite_hash: str, override_s: float | None = None,
                  device: str = "cpu") -> Budgets:
    """The budgets for ``assignment``'s suite as it is now (``suite_hash``)."""
    extra = CUDA_EXTRA_S if device == "cuda" else 0.0
    measured, stale = measurement(assignment, suite_hash)
    return Budgets(measured or {}, stale, override_s, extra)


def measurement(assignment: Assignment, suite_hash: str) -> tuple[dict[str, float] | None, str]:
    """(the reference's time per test, "") or (None, why there is none for this suite)."""
    path = budgets_file(assignment)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None, f"{path} does not exist"
    except OSError as exc:
        raise CourseError(f"{path}: cannot read the test budgets ({exc.strerror})") from None
    entry = _entries(path, stat.st_mtime_ns, stat.st_size).get(assignment.id)
    if entry is None:
        return None, f"{path} has no measurement for {assignment.id}"
    if entry["suite_hash"] != suite_hash:
        return None, (f"{path}: {assignment.id}'s measurement is for suite {entry['suite_hash']}"
                      f", the suite is now {suite_hash}")
    return dict(entry["worker_s"]), ""


def fingerprint(assignment: Assignment, suite_hash: str) -> str:
    """A short digest of everything that decides the suite's budgets (for cache keys)."""
    measured, _ = measurement(assignment, suite_hash)
    text = json.dumps([MULTIPLE, FLOOR_S, CUDA_EXTRA_S, DEFAULT_TEST_BUDGET_S, measured],
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stale(assignments: Iterable[Assignment], suite_hash: Callable[[Assignment], str]
          ) -> list[str]:
    """One line per assignment whose suite has no measured budgets (it gets the default)."""
    lines = []
    for assignment in assignments:
        if not assignment.hidden_suite.is_file():
            continue
        _, why = measurement(assignment, suite_hash(assignment))
        if why:
            lines.append(f"budgets: {why}; {assignment.id}'s tests get "
                         f"{DEFAULT_TEST_BUDGET_S:g} s each (run `grade validate` to measure "
                         "them)")
    return lines


@functools.lru_cache(maxsize=8)
def _entries(path: Path, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    """The file's suites, checked: assignment -> {"suite_hash": str, "worker_s": {test: s}}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CourseError(f"{path}: not a readable budgets file ({exc})") from None
    suites = data.get("suites") if isinstance(data, dict) else None
    if not isinstance(suites, dict):
        raise CourseError(f"{path}: expected an object with a \"suites\" object")
    checked = {}
    for name, entry in suites.items():
        times = entry.get("worker_s") if isinstance(entry, dict) else None
        if not (isinstance(entry, dict) and isinstance(entry.get("suite_hash"), str)
                and isinstance(times, dict) and all(
                    isinstance(k, str) and isinstance(v, (int, float)) and math.isfinite(v)
                    and v >= 0 for k, v in times.items())):
            raise CourseError(f"{path}: suite {name!r} needs a \"suite_hash\" string and "
                              "\"worker_s\": test name -> seconds (a number >= 0)")
        checked[str(name)] = {"suite_hash": entry["suite_hash"],
                              "worker_s": {k: float(v) for k, v in times.items()}}
    return checked


def record(assignment: Assignment, suite_hash: str, worker_s: Mapping[str, float]) -> Path:
    """Store the reference's times for ``assignment``'s suite (replacing an older entry)."""
    path = budgets_file(assignment)
    suites: dict[str, Any] = {}
    if path.exists():
        stat = path.stat()
        suites = dict(_entries(path, stat.st_mtime_ns, stat.st_size))
    suites[assignment.id] = {
        "suite_hash": suite_hash,
        # rounded up to 0.1 ms: a budget never shrinks by rounding
        "worker_s": {name: math.ceil(value * 10000) / 10000
                     for name, value in sorted(worker_s.items())},
    }
    data = {"about": "The reference solution's worker time per hidden test, measured by "
                     "`grade validate` (grader/suite/budgets.py gives each test's budget from it).",
            "suites": dict(sorted(suites.items()))}
    return write_atomic(path, json.dumps(data, indent=1) + "\n")
