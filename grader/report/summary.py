"""The instructor's summary: who scored what (a grid linked to each feedback page), how scores
spread (histograms), which tests students fail among those who tried, and the mistake most of
them make.

Pass rates count only the students who attempted the function: a not-attempted test is counted
apart, a skipped one (a GPU check on a CPU run) is "n/a" with the reason. The most common named
mistake of a test is the first sentence of the suite's hint (``Hint: ...``) shared by most of
the students who failed it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from grader.core.paths import safe_component
from grader.core.results import NOT_ATTEMPTED, PASSED, SKIPPED, SubmissionResult
from grader.core.roster import RosterEntry
from grader.core.text import visible
from grader.report.feedback import function_of
from grader.report.plots import score_histogram

#: A test is "widely failed" when at least this share of its attempters fail it (and 2 do).
WIDELY_FAILED = 0.25
_HINT = re.compile(r"^Hint: (.*)$", re.MULTILINE)
_SENTENCE = re.compile(r"^(.*?[.!?])(?:\s|$)")


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


def grid(results: Sequence[SubmissionResult], assignments: Sequence[str],
         roster: Sequence[RosterEntry], missing: Any, status: Any) -> list[dict[str, Any]]:
    """One row per student (roster order, then the others): a cell per assignment."""
    by_key: dict[str, dict[str, SubmissionResult]] = {}
    names: dict[str, str] = {}
    for r in results:
        by_key.setdefault(r.student.lower(), {})[r.assignment] = r
        names.setdefault(r.student.lower(), r.student)
    people = {e.student.lower(): e for e in roster}
    keys = list(dict.fromkeys([*people, *sorted(by_key)]))
    rows = []
    for key in keys:
        per = by_key.get(key, {})
        entry = people.get(key)
        student = names.get(key, entry.student if entry else key)
        cells = []
        for a in assignments:
            r = per.get(a)
            cells.append({"score": "-" if r is None or missing(r) else _points(r.score),
                          "link": feedback_link(r.student, a) if r is not None else "",
                          "status": status(r) if r is not None else "no folder"})
        total = sum(r.score for r in per.values())
        rows.append({"student": visible(student), "name": visible(entry.name if entry else ""),
                     "search": visible(f"{student} {entry.name if entry else ''}").lower(),
                     "cells": cells, "total": _points(total),
                     "roster": "" if not roster else ("missing" if not per else
                                                      "" if entry else "unknown")})
    return rows


def _points(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def histogram(scores: Sequence[float], max_score: float, title: str) -> dict[str, Any]:
    picture = score_histogram(scores, max_score, title)
    return {"uri": picture.uri, "width": picture.width, "height": picture.height,
            "alt": picture.alt}
