"""The practice cooldown on push grading (``grade ci --practice-history FILE``).

Push grading's earlier gradings are the grading runner's own records: each grading is kept as
an artifact of the runner repository named ``score-<student>-<sha>-<attempt>``
(grader/templates/github/grading.yml), and GitHub stamps its ``created_at``. A student can ask
for a grading but can neither write those artifacts nor set their times (unlike a commit date,
which the student sets), so they are the history the token bucket (grader.core.cooldown) is
replayed over, as Gradescope's ``previous_submissions`` are.

FILE is what the workflow's history step writes from GitHub's list of the runner's artifacts
(``gh api --paginate repos/RUNNER/actions/artifacts --jq '.artifacts[] | {name,
created_at}'``): JSON objects with ``name`` and ``created_at``, one per line (a JSON array is
read too). Only this student's records count; a bad line is a one-line error naming the file
and the line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.cooldown import allowance, read_cooldown
from grader.core.deadline_files import parse_time
from grader.core.errors import ConfigError
from grader.core.grade_record import Deadlines, student_due
from grader.core.text import md_text
from grader.report.late import cooldown_line

#: A grading record's artifact name (grading.yml: score-<student>-<sha>-<run attempt>).
_RECORD = r"score-{student}-[0-9a-f]{{40}}-[0-9]+"
MAX_BYTES = 16 * 1024 * 1024


def _entries(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES} bytes")
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not JSON: {exc}") from None
        yield from ((1, item) for item in items)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError:
                raise ConfigError(f"{path}: line {number}: not a JSON object") from None


def read_history(path: Path, student: str) -> list[dt.datetime]:
    """When ``student``'s earlier gradings were recorded, oldest first."""
    pattern = re.compile(_RECORD.format(student=re.escape(student)), re.IGNORECASE)
    times = []
    for number, item in _entries(path):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{path}: line {number}: expected an object with a name and "
                              "created_at")
        if pattern.fullmatch(item["name"]):
            times.append(parse_time(item.get("created_at"), f"{path}: line {number}: "
                                                            "created_at"))
    return sorted(times)


@dataclass(frozen=True)
class Gate:
    """The cooldown's word on this grading: whether it runs, and the line that says so
    ("" where no cooldown applies: no [practice], no history, or at or after the due date)."""

    allowed: bool = True
    line: str = ""


def practice_gate(history: Path | None, course_root: Path, deadlines: Deadlines,
                  student: str, assignments: Sequence[str], now: dt.datetime) -> Gate:
    """Replay course.toml's ``[practice]`` bucket over the student's earlier gradings."""
    cooldown = read_cooldown(course_root)
    if history is None or cooldown is None:
        return Gate()
    due = student_due(deadlines, student, assignments)
    if due is not None and now >= due:
        return Gate()  # from the due date on, every grading counts
    allowed = allowance(cooldown, read_history(history, student), now)
    return Gate(allowed.allowed, cooldown_line(allowed, cooldown, due, now))


def refused_summary(line: str) -> str:
    """The step summary (and ci-summary.md) of a refused grading."""
    return (f"# Not graded\n\n{md_text(line[:1].upper() + line[1:])}.\n\n"
            "This grading is not recorded: your last recorded grading stands. Push again "
            "after that time to be graded.\n")
