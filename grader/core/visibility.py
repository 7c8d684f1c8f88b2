"""Which test results a student sees now: per course and per test, on every path.

Set in the course root's ``course.toml`` (read here with tomllib until the course file has
one parser, grader.core.course; issue 25)::

    [visibility]
    default = "after_due_date"        # every test not named below
    [visibility.tests]                # first matching pattern wins (fnmatch)
    "test_*__values" = "visible"      # a test's name ...
    "activations/test_relu__*" = "visible"   # ... or "<assignment>/<name>"

and each assignment's due date as ``due`` in its ``assignment.toml`` (read as the deadlines
read it: grader.core.deadline_files.read_due, with its ``timezone``). Values are
Gradescope's: ``visible`` (shown at once: the test, its cause line and points),
``after_due_date`` (details shown once the due date has passed; without a due date, not
yet), ``after_published`` and ``hidden`` (never shown to the student by the grader's own
outputs). Without ``[visibility]`` every test is visible, as before.

Plain data only; the feedback engine (grader.core.feedback) and the writers apply it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.deadline_files import read_due
from grader.core.errors import CourseError
from grader.core.results import SKIPPED, TestResult

VISIBLE = "visible"
AFTER_DUE_DATE = "after_due_date"
VALUES = ("hidden", AFTER_DUE_DATE, "after_published", VISIBLE)
#: How a held test's release is said to the student.
WHEN = {AFTER_DUE_DATE: "after the due date", "after_published": "when grades are published",
        "hidden": "to the course staff only"}


@dataclass(frozen=True)
class Visibility:
    """The course's rule: a default and (pattern, value) pairs, and each assignment's due."""

    default: str = VISIBLE
    rules: tuple[tuple[str, str], ...] = ()
    due: Mapping[str, dt.datetime] = field(default_factory=dict)

    def of(self, assignment: str, test: str) -> str:
        """The visibility of ``test`` (its name) in ``assignment``."""
        for pattern, value in self.rules:
            if fnmatch.fnmatchcase(test, pattern) or fnmatch.fnmatchcase(
                    f"{assignment}/{test}", pattern):
                return value
        return self.default

    def shown(self, assignment: str, test: str, now: dt.datetime) -> bool:
        """Whether the student sees ``test``'s result at ``now``."""
        value = self.of(assignment, test)
        if value == VISIBLE:
            return True
        due = self.due.get(assignment)
        return value == AFTER_DUE_DATE and due is not None and now >= due

    @property
    def configured(self) -> bool:
        return self.default != VISIBLE or bool(self.rules)


def _value(value: object, where: str) -> str:
    if value not in VALUES:
        raise CourseError(f"{where}: {value!r} is not one of {', '.join(VALUES)}")
    return str(value)


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CourseError(f"{path}: cannot be read: {reason}") from None


def read_visibility(root: Path, assignments: Sequence[str] = ()) -> Visibility:
    """The course's visibility (``root/course.toml``) and the due dates of ``assignments``
    (``root/assignments/<id>/assignment.toml``); a malformed value is a CourseError naming
    the file."""
    path = root / "course.toml"
    table = _toml(path).get("visibility", {}) if path.is_file() else {}
    if not isinstance(table, dict):
        raise CourseError(f"{path}: [visibility] must be a table")
    tests = table.get("tests", {})
    if not isinstance(tests, dict):
        raise CourseError(f"{path}: [visibility.tests] must be a table of pattern = value")
    rules = tuple((str(p), _value(v, f"{path}: [visibility.tests] {p!r}"))
                  for p, v in tests.items())
    due: dict[str, dt.datetime] = {}
    for assignment in assignments:
        meta = root / "assignments" / assignment / "assignment.toml"
        value = read_due(_toml(meta), meta) if meta.is_file() else None
        if value is not None:
            due[assignment] = value
    return Visibility(_value(table.get("default", VISIBLE), f"{path}: [visibility] default"),
                      rules, due)


@dataclass(frozen=True)
class Shown:
    """One submission's tests split into what the student sees now and what is held."""

    tests: tuple[TestResult, ...]
    held: tuple[TestResult, ...] = ()
    when: str = ""

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def worth(self) -> float:
        return round(sum(t.max_score for t in self.tests if t.status != SKIPPED), 6)

    def score_line(self) -> str:
        """``Your score so far: 9 of 40 points (the tests shown now).`` ("" when none held)."""
        if not self.held:
            return ""
        if not self.tests:
            return "No test result is shown yet."
        return (f"Your score so far: {_points(self.score)} of {_points(self.worth)} points "
                "(the tests shown now).")

    def held_line(self) -> str:
        """``Still hidden: 16 tests worth 60 points, shown after the due date.``"""
        if not self.held:
            return ""
        worth = sum(t.max_score for t in self.held)
        count = len(self.held)
        return (f"Still hidden: {count} test{'s' if count != 1 else ''} worth {_points(worth)} "
                f"point{'' if worth == 1 else 's'}, shown {self.when}.")


def _points(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def split(tests: Sequence[TestResult], assignment: str, visibility: Visibility | None,
          now: dt.datetime | None = None) -> Shown:
    """``tests`` as the student sees them at ``now`` (default: this moment)."""
    if visibility is None or not visibility.configured:
        return Shown(tuple(tests))
    moment = now or dt.datetime.now(dt.UTC)
    shown = tuple(t for t in tests if visibility.shown(assignment, t.name, moment))
    held = tuple(t for t in tests if not visibility.shown(assignment, t.name, moment))
    values = {visibility.of(assignment, t.name) for t in held}
    when = WHEN[AFTER_DUE_DATE] if values <= {AFTER_DUE_DATE} else WHEN.get(
        min(values, key=VALUES.index), WHEN["hidden"])
    due = visibility.due.get(assignment)
    if values == {AFTER_DUE_DATE} and due is not None:
        when = f"after the due date ({due.strftime('%Y-%m-%d %H:%M %Z')})"
    return Shown(shown, held, when)
