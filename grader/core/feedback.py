"""The student-facing words of a grading, from one source for every output.

``grade`` (feedback.md and feedback.html), Gradescope's results.json, Classroom 50, push
grading (``grade ci``, the posted comment) and the student's self-check (``python -m
selfcheck``, ``check()``; the bundle ships this module) all say what went wrong with the
functions here, so a student never reads two explanations of one mistake:

    function_of(test)      the student's function a test is about
    explain(tests, ...)    per function: one cause line (a hint the tests share, a syntax
                           error's place with the line quoted, "not attempted", a knock-on
                           failure), the points it costs, its failed tests
    student_notes(notes)   the extraction's notes, a syntax error's quoted line apart
    verdict(test)          what a failed test's title says: never "failed" alone when the test
                           failed on something other than what its title names
    plain_text(...)        all of it as plain text (terminal, CI log, self-check)

Only plain data in, plain strings out (grader.core.results); escaping for Markdown or HTML
is the writers' (grader.core.text). Imports nothing of the grader above grader.core.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from grader.core.results import CRASHED, NOT_ATTEMPTED, PASSED, SKIPPED, TIMED_OUT, TestResult
from grader.core.text import head_of

_TEST_NAME = re.compile(r"^test_([A-Za-z_]\w*?)__")
#: The first line of a syntax-error note (grader.extract.parse._syntax_note); the quoted line
#: and its caret follow on the next lines.
_SYNTAX_NOTE = re.compile(r"^(?:code cell (\d+)(?:, line (\d+))?|line (\d+)): syntax error "
                          r"\((.*?)\); .*?(?: \(it defines ([\w, ]+)\))?$")
_HINT = re.compile(r"^Hint: (.*)$", re.MULTILINE)
#: Characters of a failure's first line shown in a test's verdict.
VERDICT_CHARS = 160
#: How a function's cause ends when its checks fail in different ways: the failures are the
#: explanation, so the feedback page shows them unfolded (and the summary finds another cause).
SEE_BELOW = "see each below."
NOT_ATTEMPTED_WORDS = "still raises NotImplementedError"


def function_of(test: TestResult, functions: Sequence[str] = ()) -> str:
    """The student's function a test is about: ``test_<function>__<what>`` (hidden suites),
    the longest of ``functions`` that ``test_<function>_...`` starts with (public tests), else
    the description's ``"backward: ..."``."""
    match = _TEST_NAME.match(test.name)
    if match:
        return match.group(1)
    name = test.name.split("[")[0]
    owners = [f for f in functions for form in {f, snake_case(f)}
              if name == f"test_{form}" or name.startswith(f"test_{form}_")]
    if owners:
        return max(owners, key=len)
    head, sep, _ = (test.description or "").partition(":")
    if sep and head.strip().isidentifier():
        return head.strip()
    first = (test.description or "").split(" ")[0]
    return first if first in functions else "other checks"


def snake_case(name: str) -> str:
    """``TwoHiddenLayerNet`` -> ``two_hidden_layer_net`` (public tests name classes so)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@dataclass(frozen=True)
class BrokenCell:
    """A cell (or .py lines) with a syntax error, from the extraction's note."""

    cell: int | None
    line: int | None
    why: str
    names: tuple[str, ...] = ()
    quote: str = ""

    def place(self) -> str:
        """``code cell 7 (the one defining softmax), line 1``; ``line 40`` of a .py file."""
        if self.cell is None:
            return f"line {self.line}"
        defining = f" (the one defining {', '.join(self.names)})" if self.names else ""
        at = f", line {self.line}" if self.line else ""
        return f"code cell {self.cell}{defining}{at}"


def broken_cell(note: str) -> BrokenCell | None:
    """The syntax error a note reports; None for any other note."""
    first, _, quote = note.partition("\n")
    match = _SYNTAX_NOTE.match(first)
    if not match:
        return None
    cell, line, file_line, why, names = match.groups()
    return BrokenCell(int(cell) if cell else None,
                      int(line or file_line) if (line or file_line) else None, why,
                      tuple(names.split(", ")) if names else (), quote)


def broken_cells(notes: Sequence[str]) -> dict[str, BrokenCell]:
    """name -> the cell with a syntax error that defines it."""
    found: dict[str, BrokenCell] = {}
    for note in notes:
        cell = broken_cell(note)
        for name in cell.names if cell else ():
            found.setdefault(name, cell)  # type: ignore[arg-type]
    return found


@dataclass(frozen=True)
class Note:
    """A note for the student: one line, and the code it quotes (a syntax error's line and
    caret; "" for none)."""

    text: str
    quote: str = ""


def student_note(note: str) -> Note:
    """One extraction or loading note as the student reads it (the notes are written in the
    student's words where they are made; a syntax error's place is named here)."""
    cell = broken_cell(note)
    if cell is None:
        return Note(note.strip())
    return Note(f"{cell.place()}: syntax error ({cell.why}); that code could not be graded.",
                cell.quote)


def student_notes(notes: Sequence[str], told: Explanation | None = None) -> list[Note]:
    """The notes as the student reads them, without a syntax error that ``told`` already
    gives as a function's cause (one explanation of one mistake)."""
    causes = {e.function for e in told.wrong if e.kind == "syntax"} if told else set()
    kept = []
    for note in notes:
        cell = broken_cell(note)
        if cell is not None and cell.names and set(cell.names) <= causes:
            continue
        kept.append(student_note(note))
    return kept


def verdict(test: TestResult) -> str:
    """What a test's line says after its title: ``passed``; ``failed: <what failed>`` with the
    failure's own first line (a test named "the input array is left unchanged" that failed on
    its values says so); ``timed out: ...``, ``crashed: ...`` the same way."""
    if test.status in (PASSED, NOT_ATTEMPTED):
        return test.status
    if test.status == SKIPPED:
        return "skipped (not counted)"
    line = first_line(test.message)
    if not line:
        return test.status
    head = _head(line)
    return f"{test.status}: {head}" + (" …" if head != line else "")


def _head(line: str) -> str:
    """What of a long first line fits in a verdict: cut between words (the detail block
    carries on from there, so nothing is said twice or cut mid-word)."""
    return head_of(line, VERDICT_CHARS)


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()
                 and not line.startswith("Hint: ")), "")


def common_hint(failed: Sequence[TestResult]) -> str:
    hints = Counter(h.strip() for t in failed for h in _HINT.findall(t.message))
    return hints.most_common(1)[0][0] if hints else ""


@dataclass
class Explained:
    """One function's feedback: why it loses points (``kind``: syntax, not-attempted,
    knock-on, wrong), the code quoted for it, and its failed tests."""

    function: str
    kind: str
    cause: str
    lost: float
    worth: float
    failed: list[TestResult] = field(default_factory=list)
    quote: str = ""
    hint: str = ""

    @property
    def brief(self) -> bool:
        """The cause says it all: its tests' details would repeat it."""
        return self.kind in ("not-attempted", "syntax")


@dataclass
class Explanation:
    """What went wrong, function by function (own mistakes, then knock-on ones), what works,
    and the functions not attempted yet folded into one line."""

    wrong: list[Explained]
    not_attempted: list[Explained]
    passed: list[tuple[str, int, float]]  # (function, tests, points)
    skipped: list[TestResult]

    @property
    def not_attempted_line(self) -> str:
        """One line for every function not attempted yet (or "")."""
        if not self.not_attempted:
            return ""
        names = ", ".join(e.function for e in self.not_attempted)
        worth = sum(e.worth for e in self.not_attempted)
        one = len(self.not_attempted) == 1
        return (f"Not attempted yet: {names} ({'it' if one else 'each'} {NOT_ATTEMPTED_WORDS}; "
                f"{_points(worth)} point{'' if worth == 1 else 's'}).")


def _points(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _cause(function: str, failed: Sequence[TestResult], broken: Mapping[str, BrokenCell],
           wrong: Sequence[str]) -> tuple[str, str, str]:
    """(kind, cause line, quoted code)."""
    cell = broken.get(function)
    if cell is not None:
        return "syntax", (f"{function} was never defined: {cell.place()} has a syntax error "
                          f"({cell.why}). Fix that line."), cell.quote
    if failed and all(t.status == NOT_ATTEMPTED for t in failed):
        return "not-attempted", f"{function} is not attempted yet (it {NOT_ATTEMPTED_WORDS}).", ""
    if wrong:
        uses = ", ".join(wrong)
        return "knock-on", (f"{function} uses {uses}, and your {uses} "
                            f"{'is' if len(wrong) == 1 else 'are'} wrong: fix {uses} first, "
                            f"then check {function} again."), ""
    hint = common_hint(failed)
    if hint:
        return "wrong", hint, ""
    firsts = {first_line(t.message) for t in failed}
    if len(firsts) == 1 and "" not in firsts:
        return "wrong", firsts.pop(), ""
    if failed[0].status in (TIMED_OUT, CRASHED) and first_line(failed[0].message):
        return "wrong", first_line(failed[0].message), ""  # the later ones follow from it
    count = len(failed)
    return "wrong", (f"{count} check{'s' if count != 1 else ''} of {function} did not pass: "
                     f"{SEE_BELOW}"), ""


def explain(tests: Sequence[TestResult], notes: Sequence[str] = (),
            calls: Mapping[str, Sequence[str]] | None = None,
            functions: Sequence[str] = ()) -> Explanation:
    """Group ``tests`` by function and say, once per function, why it loses points.

    ``calls``: which graded functions each one uses (grader.report.calls), for knock-on
    failures; ``functions``: the assignment's functions (to tell public tests' functions)."""
    calls = calls or {}
    groups: dict[str, list[TestResult]] = {}
    for test in tests:
        groups.setdefault(function_of(test, functions), []).append(test)
    broken = broken_cells(notes)
    failing = {f for f, ts in groups.items() if any(t.status not in (PASSED, SKIPPED)
                                                      for t in ts)}
    own: list[Explained] = []
    knock_on: list[Explained] = []
    not_attempted: list[Explained] = []
    passed: list[tuple[str, int, float]] = []
    for function, group in groups.items():
        counted = [t for t in group if t.status != SKIPPED]
        failed = [t for t in counted if t.status != PASSED]
        worth = sum(t.max_score for t in counted)
        if not failed:
            if counted:
                passed.append((function, len(counted), worth))
            continue
        wrong = [f for f in calls.get(function, ()) if f in failing and f != function]
        kind, cause, quote = _cause(function, failed, broken, wrong)
        item = Explained(function, kind, cause, sum(t.max_score - t.score for t in counted),
                         worth, failed, quote, common_hint(failed) if kind == "wrong" else "")
        {"knock-on": knock_on, "not-attempted": not_attempted}.get(kind, own).append(item)
    return Explanation(own + knock_on, not_attempted, passed,
                       [t for t in tests if t.status == SKIPPED])


def detail(test: TestResult, hint: str) -> str:
    """A failed test's message without what its verdict and its function's cause already
    say (the first line, the shared hint)."""
    message = test.message
    if hint:
        message = message.replace(f"Hint: {hint}", "")
    lines = [line.rstrip() for line in message.strip().splitlines()]
    first = first_line(test.message)
    if first and lines and lines[0].strip() == first:
        rest = first[len(_head(first)):].strip()  # what the verdict had no room for
        lines = [f"… {rest}", *lines[1:]] if rest else lines[1:]
    return "\n".join(line for line in lines if line.strip()).strip("\n")


def by_test(explanation: Explanation) -> dict[str, Explained]:
    """test name -> the explanation of its function (failed tests only)."""
    return {t.name: item for item in [*explanation.wrong, *explanation.not_attempted]
            for t in item.failed}


def test_feedback(test: TestResult, item: Explained | None) -> tuple[str, str, str, str]:
    """(cause, quoted code, verdict, detail) of one test, as every writer shows it: a failed
    test leads with its function's cause line, the same words as the feedback page."""
    if test.status in (PASSED, SKIPPED) or item is None:
        return "", "", verdict(test), test.message.strip() if test.status != PASSED else ""
    said = verdict(test)
    if said == f"{test.status}: {item.cause}":  # the cause is this failure's own first line
        said = test.status
    return item.cause, item.quote, said, "" if item.brief else detail(test, item.hint)


def test_plain(test: TestResult, item: Explained | None) -> str:
    """:func:`test_feedback` as plain text (a results.json test's ``output``)."""
    cause, quote, said, more = test_feedback(test, item)
    text = "\n".join(part for part in (cause, quote, f"Result: {said}", more) if part)
    return bounded(text, test.message)


def bounded(text: str, message: str) -> str:
    """``text`` no longer than the test's own message allows (a message is capped where it
    is made; the cause line and verdict never make a huge one much bigger)."""
    limit = max(len(message), 2000) + 80
    return text if len(text) <= limit else text[:limit - 4] + " ..."


def _indent(text: str, by: str) -> str:
    return "\n".join(by + line if line.strip() else line for line in text.splitlines())


def plain_text(explanation: Explanation, notes: Sequence[str] = (), *,
               details: bool = True, clean: Callable[[str], str] = str,
               points: bool = True) -> str:
    """The explanation as plain text: per function ``FAILED relu (-4 of 9 points): <cause>``
    with the quoted code and (``details``) each failed test's verdict and message; the
    not-attempted line; what works; the notes. ``clean`` makes student text safe for where it
    goes (grader.core.text.block for a terminal)."""
    lines: list[str] = []
    for item in explanation.wrong:
        cost = f" (-{_points(item.lost)} of {_points(item.worth)} points)" if points else ""
        lines.append(f"FAILED {item.function}{cost}: {clean(item.cause)}")
        if item.quote:
            lines.append(clean(item.quote))
        if details and not item.brief:
            for test in item.failed:
                lines.append(f"  - {clean(test.description or test.name)}: {clean(verdict(test))}")
                more = detail(test, item.hint)
                if more:
                    lines.append(_indent(clean(more), "      "))
    if explanation.not_attempted_line:
        line = explanation.not_attempted_line
        lines.append(line if points else re.sub(r"; [\d.]+ points?\)", ")", line))
    for function, count, worth in explanation.passed:
        lines.append(f"ok     {function}: {count} test{'s' if count != 1 else ''} passed"
                     + (f" ({_points(worth)} points)" if points else ""))
    for note in student_notes(notes, explanation):
        lines.append(f"note: {clean(note.text)}")
        if note.quote:
            lines.append(clean(note.quote))
    return "\n".join(lines)
