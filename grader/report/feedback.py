"""Feedback grouped by function: one cause line per function, the points it costs, failures
first; a knock-on failure (``train`` fails because ``backward`` does) named as such; a function
lost to a cell's syntax error says which cell; notes in a student's words.

Tests are named ``test_<function>__<what>`` by the suites, so the function of a test is read
from its name (else from its description, ``"backward: ..."``). Which graded function uses
which comes from the reference solution (:func:`grader.report.calls.reference_calls`): the
lecture's ``train`` calls ``forward``, ``backward`` and ``sgd_step``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.core.results import NOT_ATTEMPTED, PASSED, SKIPPED, TestResult
from grader.core.text import block, visible

_TEST_NAME = re.compile(r"^test_([A-Za-z_]\w*?)__")
#: The parse note of a cell with a syntax error (grader.extract.parse._syntax_note).
_SYNTAX_NOTE = re.compile(r"^cell (\d+): syntax error(?: at line (\d+))? \((.*?)\); .*?"
                          r"\(it defines ([\w, ]+)\)$")
_HINT = re.compile(r"^Hint: (.*)$", re.MULTILINE)


def function_of(test: TestResult) -> str:
    """The student's function a test is about."""
    match = _TEST_NAME.match(test.name)
    if match:
        return match.group(1)
    head, sep, _ = (test.description or "").partition(":")
    return head.strip() if sep and head.strip().isidentifier() else "other checks"


@dataclass(frozen=True)
class BrokenCell:
    cell: int
    line: int | None
    why: str


def broken_cells(notes: Sequence[str]) -> dict[str, BrokenCell]:
    """name -> the cell with a syntax error that defines it (from the extraction's notes)."""
    found: dict[str, BrokenCell] = {}
    for note in notes:
        match = _SYNTAX_NOTE.match(note)
        if not match:
            continue
        cell = BrokenCell(int(match.group(1)), int(match.group(2)) if match.group(2) else None,
                          match.group(3))
        for name in match.group(4).split(", "):
            found.setdefault(name, cell)
    return found


@dataclass
class Group:
    """The tests of one function."""

    function: str
    tests: list[TestResult] = field(default_factory=list)

    @property
    def counted(self) -> list[TestResult]:
        return [t for t in self.tests if t.status != SKIPPED]

    @property
    def failed(self) -> list[TestResult]:
        return [t for t in self.counted if t.status != PASSED]

    @property
    def lost(self) -> float:
        return sum(t.max_score - t.score for t in self.counted)

    @property
    def worth(self) -> float:
        return sum(t.max_score for t in self.counted)

    @property
    def not_attempted(self) -> bool:
        return bool(self.failed) and all(t.status == NOT_ATTEMPTED for t in self.failed)


def group_tests(tests: Sequence[TestResult]) -> list[Group]:
    groups: dict[str, Group] = {}
    for test in tests:
        groups.setdefault(function_of(test), Group(function_of(test))).tests.append(test)
    return list(groups.values())


def _common_hint(failed: Sequence[TestResult]) -> str:
    hints = Counter(h.strip() for t in failed for h in _HINT.findall(t.message))
    return hints.most_common(1)[0][0] if hints else ""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def cause_line(group: Group, broken: Mapping[str, BrokenCell], wrong: Sequence[str]
               ) -> tuple[str, str]:
    """(kind, one line saying why this function loses points)."""
    name = group.function
    cell = broken.get(name)
    if cell is not None:
        at = f" at line {cell.line}" if cell.line else ""
        return "syntax", (f"{name} is in cell {cell.cell}, which has a syntax error{at} "
                          f"({cell.why}), so it was never defined: fix that cell.")
    if group.not_attempted:
        return "not-attempted", (f"{name} is not attempted yet (it still raises "
                                 "NotImplementedError).")
    if wrong:
        uses = ", ".join(wrong)
        return "knock-on", (f"{name} uses {uses}, and your {uses} "
                            f"{'is' if len(wrong) == 1 else 'are'} wrong: fix {uses} first, "
                            f"then check {name} again.")
    hint = _common_hint(group.failed)
    return "wrong", hint or _first_line(group.failed[0].message) or "Wrong result."


def _detail(test: TestResult, hint: str) -> str:
    """The test's message without the hint already given as the group's cause."""
    message = block(test.message)
    if hint:
        message = message.replace(f"Hint: {hint}", "").rstrip()
    return message


def group_views(tests: Sequence[TestResult], notes: Sequence[str],
                calls: Mapping[str, Sequence[str]], points: Any,
                test_view: Any) -> dict[str, Any]:
    """Failed functions first (their own mistakes before knock-on ones), then passed ones,
    then the skipped tests (neither passed nor failed)."""
    groups = group_tests(tests)
    broken = broken_cells(notes)
    failing = {g.function for g in groups if g.failed}
    failed_views, knock_on, passed = [], [], []
    for group in groups:
        if not group.failed:
            if group.counted:
                passed.append({"function": group.function, "tests": len(group.counted),
                               "points": points(group.worth)})
            continue
        wrong = [f for f in calls.get(group.function, ()) if f in failing and f != group.function]
        kind, cause = cause_line(group, broken, wrong)
        hint = _common_hint(group.failed) if kind == "wrong" else ""
        view = {"function": group.function, "kind": kind, "cause": visible(cause),
                "lost": points(group.lost), "worth": points(group.worth),
                "brief": kind in ("not-attempted", "syntax"),
                "tests": [{**test_view(t), "detail": _detail(t, hint)} for t in group.failed]}
        (knock_on if kind == "knock-on" else failed_views).append(view)
    skipped = [test_view(t) for t in tests if t.status == SKIPPED]
    return {"groups": failed_views + knock_on, "passed_groups": passed, "skipped": skipped}


#: Grader words -> a student's (prefix of an extraction or loading note, its rewording).
_NOTE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^dropped top-level code: (\d+) statements? \(([^)]*)\) (?:are|is) not run "
                r"when grading$"),
     r"Code outside your functions (\2) was not run when grading; only your functions are "
     r"graded, so this costs nothing."),
    (re.compile(r"^not run when grading: (\d+) assignments? that no function uses \((.*)\)$"),
     r"Variables that none of your functions use (\2) were not set when grading; this costs "
     r"nothing."),
    (re.compile(r"^An import failed on the grading machine \((.*)\)\. This costs nothing unless "
                r"a graded function uses that package\.$"),
     r"An import failed on the grading machine (\1). That costs nothing as long as your graded "
     r"functions do not need it."),
)


def student_note(note: str) -> str:
    """A note reworded for the student where the grader's wording is its own jargon."""
    for pattern, words in _NOTE_WORDS:
        if pattern.match(note):
            return pattern.sub(words, note)
    match = _SYNTAX_NOTE.match(note)
    if match:
        at = f", line {match.group(2)}" if match.group(2) else ""
        return (f"Cell {match.group(1)}{at} has a syntax error ({match.group(3)}); that "
                f"cell's code could not be graded (it defines {match.group(4)}).")
    return note


def skipped_reason(message: str) -> str:
    """Why a test did not run, for the student."""
    if "--device" in message or "GPU" in message or "cuda" in message:
        return "Not run: this check needs a GPU, and this grading run had none. Not counted."
    return f"Not run ({message.strip() or 'skipped'}). Not counted."


def _course(values: Sequence[float | None], step: int) -> str:
    """How a loss went: ``2.86 → 0.0186``, or where it stopped being a number."""
    if not values:
        return "not available"
    bad = next((i for i, v in enumerate(values) if v is None), None)
    first = "not a number" if values[0] is None else f"{values[0]:.4g}"
    if bad is not None:
        return f"{first} → not a finite number from epoch {1 + bad * step} on"
    return f"{first} → {values[-1]:.4g}"


def curve_views(tests: Sequence[TestResult], draw: Any) -> list[dict[str, Any]]:
    """Each recorded curve: its function, caption, one-line course and (``draw``: a picture
    of it, or None where the caller draws none) its picture."""
    views = []
    for test in tests:
        for curve in test.curves:
            epochs = max(len(curve.student), len(curve.reference)) * curve.step
            views.append({
                "function": function_of(test),
                "name": visible(curve.name),
                "line": (f"yours {_course(curve.student, curve.step)}; the reference's "
                         f"{_course(curve.reference, curve.step)} ({epochs} epochs)"),
                "picture": draw(curve, function_of(test)) if draw else None,
            })
    return views
