"""The instructor's summary: who is struggling and why first (a grid of every student, those
below a threshold or missing on top, each cell coloured by score and linked to its feedback
page; per assignment the functions most students got wrong with the cause most of them share),
then how scores spread (histograms) and which tests students fail among those who tried.

Pass rates count only the students who attempted the function: a not-attempted test is counted
apart, a skipped one (a GPU check on a CPU run) is "n/a" with the reason. The most common named
mistake of a test is the first sentence of the suite's hint (``Hint: ...``) shared by most of
the students who failed it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from grader.core.feedback import SEE_BELOW, broken_cells, explain
from grader.core.paths import safe_component
from grader.core.results import NOT_ATTEMPTED, PASSED, SKIPPED, SubmissionResult
from grader.core.roster import RosterEntry
from grader.core.text import head_of, visible
from grader.report.feedback import function_of
from grader.report.plots import score_histogram

#: A student needs attention below this share of an assignment's points (or missing one).
THRESHOLD = 0.5
#: Functions listed per assignment under "what went wrong most".
TOP_FUNCTIONS = 3
#: A test is "widely failed" when at least this share of its attempters fail it (and 2 do).
WIDELY_FAILED = 0.25
_HINT = re.compile(r"^Hint: (.*)$", re.MULTILINE)
_SENTENCE = re.compile(r"^(.*?[.!?])(?:\s|$)")
#: The feedback page's line for a function whose checks fail in different ways ("3 checks of
#: relu did not pass: see each below."): on the summary there is nothing below, so a function
#: is described by the most common cause that names a mistake, or by MIXED_WORDS.
_MIXED = re.compile(rf"^\d+ checks? of \S+ did not pass: {re.escape(SEE_BELOW)}$")
#: A cause longer than this is cut in the first screen's cards, so the grid starts on screen.
CARD_CHARS = 140
MIXED_WORDS = "its checks fail in different ways (the pass rates per test are below)"


def feedback_link(student: str, assignment: str) -> str:
    """The relative URL of a feedback page from summary.html (the folders of write_reports)."""
    return (f"{quote(safe_component(student), safe='')}/"
            f"{quote(safe_component(assignment), safe='')}/feedback.html")


def named_mistake(message: str) -> str:
    """The mistake a failure names: its hint's first sentence ("" when it gives none)."""
    hints = _HINT.findall(message)
    if not hints:
        return ""
    first = _SENTENCE.match(hints[0].strip())
    return visible((first.group(1) if first else hints[0]).strip())[:200]


@dataclass
class _Tally:
    description: str
    function: str
    passed: int = 0
    attempted: int = 0
    not_attempted: int = 0
    skipped: int = 0
    skip_reason: str = ""
    mistakes: Counter[str] = field(default_factory=Counter)


def _skip_text(reason: str) -> str:
    return "n/a: needs --device cuda" if "--device cuda" in reason or "GPU" in reason \
        else "n/a: skipped"


def test_rates(results: Iterable[SubmissionResult], graded: Any) -> list[dict[str, Any]]:
    """Each test's pass rate among the students who attempted it, hardest first; skipped
    tests last as n/a. ``graded(result)``: whether a submission was graded."""
    tallies: dict[str, _Tally] = {}
    for result in results:
        if not graded(result):
            continue
        for test in result.tests:
            tally = tallies.setdefault(
                test.name, _Tally(test.description or test.name, function_of(test)))
            if test.status == SKIPPED:
                tally.skipped += 1
                tally.skip_reason = tally.skip_reason or test.message
            elif test.status == NOT_ATTEMPTED:
                tally.not_attempted += 1
            else:
                tally.attempted += 1
                tally.passed += test.status == PASSED
                mistake = named_mistake(test.message) if test.status != PASSED else ""
                if mistake:
                    tally.mistakes[mistake] += 1
    return sorted((_rate_view(name, t) for name, t in tallies.items()),
                  key=lambda v: (v["na"], v["ratio"], v["id"]))


def _rate_view(name: str, t: _Tally) -> dict[str, Any]:
    failed = t.attempted - t.passed
    widely = failed >= 2 and failed >= WIDELY_FAILED * t.attempted
    mistake, count = t.mistakes.most_common(1)[0] if t.mistakes else ("", 0)
    na = t.attempted == 0 and t.skipped > 0
    ratio = t.passed / t.attempted if t.attempted else 1.0
    return {
        "id": name, "description": t.description, "function": t.function,
        "passed": t.passed, "total": t.attempted, "not_attempted": t.not_attempted,
        "skipped": t.skipped, "na": na, "ratio": ratio,
        "rate": _skip_text(t.skip_reason) if na else (
            f"{round(100 * ratio)}%" if t.attempted else "-"),
        "width": round(100 * ratio),
        "mistake": f"{t.function}: {count} student{'s' if count != 1 else ''} have this: "
                   f"{mistake}" if widely and mistake and count >= 2 else "",
    }


def band(score: float, max_score: float) -> str:
    """The colour band of a cell (its CSS class; the number is always printed too)."""
    share = score / max_score if max_score else 0.0
    return "good" if share >= 0.8 else "fair" if share >= THRESHOLD else "poor"


def grid(results: Sequence[SubmissionResult], assignments: Sequence[str],
         roster: Sequence[RosterEntry], missing: Any, status: Any) -> list[dict[str, Any]]:
    """One row per student (roster students and every student who handed in something): a
    cell per assignment. The students who need attention (an assignment missing or below
    THRESHOLD of its points) come first, most assignments missing then lowest total first;
    then the others in roster order, then by id."""
    by_key: dict[str, dict[str, SubmissionResult]] = {}
    names: dict[str, str] = {}
    for r in results:
        by_key.setdefault(r.student.lower(), {})[r.assignment] = r
        names.setdefault(r.student.lower(), r.student)
    people = {e.student.lower(): e for e in roster}
    keys = list(dict.fromkeys([*people, *sorted(by_key)]))
    rows = [_row(key, by_key.get(key, {}), people.get(key), names, assignments, roster,
                 missing, status) for key in keys]
    for position, row in enumerate(rows):
        row["position"] = position
    return sorted(rows, key=lambda row: (not row["attention"],
                                         -row["missing"] if row["attention"] else 0,
                                         row["total_value"] if row["attention"] else 0,
                                         row["position"]))


def _row(key: str, per: dict[str, SubmissionResult], entry: RosterEntry | None,
         names: dict[str, str], assignments: Sequence[str], roster: Sequence[RosterEntry],
         missing: Any, status: Any) -> dict[str, Any]:
    student = names.get(key, entry.student if entry else key)
    cells = []
    for a in assignments:
        r = per.get(a)
        if r is None or missing(r):
            cells.append({"score": "missing", "value": -1, "band": "missing",
                          "link": feedback_link(r.student, a) if r is not None else "",
                          "status": status(r) if r is not None else "no folder"})
        else:
            cells.append({"score": _points(r.score), "value": r.score,
                          "band": band(r.score, r.max_score),
                          "link": feedback_link(r.student, a), "status": status(r)})
    total = sum(r.score for r in per.values())
    return {"student": visible(student), "name": visible(entry.name if entry else ""),
            "search": visible(f"{student} {entry.name if entry else ''}").lower(),
            "cells": cells, "total": _points(total), "total_value": total,
            "attention": any(c["band"] in ("missing", "poor") for c in cells),
            "missing": sum(1 for c in cells if c["band"] == "missing"),
            "roster": "" if not roster else ("no folder" if not per else
                                             "" if entry else "not on roster")}


def _points(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def histogram(scores: Sequence[float], max_score: float, title: str) -> dict[str, Any]:
    picture = score_histogram(scores, max_score, title)
    return {"uri": picture.uri, "width": picture.width, "height": picture.height,
            "alt": picture.alt}


def _short(cause: str, limit: int = CARD_CHARS) -> str:
    """A cause as the first screen's cards show it: at most ``limit`` characters, cut between
    words (summary.md and the pass-rate tables keep it whole)."""
    head = head_of(cause, limit)
    return cause if head == cause else head.rstrip(" ,;:") + " …"


def struggles(results: Iterable[SubmissionResult], calls: Mapping[str, Sequence[str]],
              graded: Any, top: int = TOP_FUNCTIONS) -> list[dict[str, Any]]:
    """The functions most students got wrong (among those graded), most first: how many,
    and the one cause most of them share (each student counted once per function); a
    knock-on failure (``train`` fails because ``backward`` does) is named as such."""
    wrong: Counter[str] = Counter()
    causes: dict[str, Counter[tuple[str, str]]] = {}
    graded_count = 0
    for result in results:
        if not graded(result):
            continue
        graded_count += 1
        told = explain(result.tests, result.notes, calls)
        items = [*told.wrong, *told.not_attempted]
        failing = {item.function for item in items}
        broken = broken_cells(result.notes)
        for item in items:
            kind, cause = item.kind, item.cause
            uses = [f for f in calls.get(item.function, ())
                    if f in failing and f != item.function]
            if kind == "knock-on":
                cause = (f"knock-on: it uses {', '.join(uses)}, which "
                         f"{'is' if len(uses) == 1 else 'are'} wrong too: fix "
                         f"{', '.join(uses)} first")
            elif kind == "not-attempted":
                cause = "not attempted (still raises NotImplementedError)"
            elif kind == "syntax":
                cell = broken.get(item.function)
                cause = f"never defined: {cell.place() if cell else 'its cell'} has a syntax error"
            elif kind == "wrong" and _MIXED.match(cause):
                kind, cause = "mixed", ""  # its checks fail in different ways: no one cause
            elif kind == "wrong":
                first = _SENTENCE.match(cause.strip())
                cause = first.group(1) if first else cause
            wrong[item.function] += 1
            causes.setdefault(item.function, Counter())[(kind, _short(visible(cause), 240))] += 1
    views = []
    for function, count in wrong.items():
        named = [(key, n) for key, n in causes[function].most_common() if key[0] != "mixed"]
        (kind, cause), shared = named[0] if named else (("wrong", MIXED_WORDS), count)
        views.append({"function": function, "count": count, "of": graded_count,
                      "kind": kind, "cause": cause, "short": _short(cause), "shared": shared})
    # the students' own mistakes first, then the knock-on failures they cause
    views.sort(key=lambda v: (-v["count"], v["function"]))
    own = [v for v in views if v["kind"] != "knock-on"]
    return own[:top] + [v for v in views if v["kind"] == "knock-on"][:top]
