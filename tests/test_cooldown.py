"""The practice cooldown: a token bucket per student replayed over the earlier gradings, the
line the student reads, and Gradescope's recipe (a refused upload shows the previous results
and when the next grading is allowed)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from helpers.gradescope_schema import schema_problems
from hypothesis import given
from hypothesis import strategies as st

import grader
from grader.core.cooldown import Cooldown, allowance, read_cooldown
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.core.settings import read_secret
from grader.integrations.gradescope.autograde import autograde
from grader.integrations.gradescope.bundle import course_entries
from grader.integrations.gradescope.config import CONFIG_NAME, AutograderConfig
from grader.report.late import cooldown_line

T0 = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
DUE = dt.datetime.fromisoformat("2026-10-05T23:59:00+02:00")


def minutes(*values: float) -> list[dt.datetime]:
    return [T0 + dt.timedelta(minutes=v) for v in values]


def test_first_grading_is_allowed_and_the_next_time_is_given() -> None:
    rule = Cooldown(minutes=30)
    first = allowance(rule, [], T0)
    assert (first.allowed, first.left, first.next_at) == (True, 0, T0 + dt.timedelta(minutes=30))
    again = allowance(rule, minutes(0), T0 + dt.timedelta(minutes=10))
    assert (again.allowed, again.next_at) == (False, T0 + dt.timedelta(minutes=30))
    later = allowance(rule, minutes(0), T0 + dt.timedelta(minutes=30))
    assert later.allowed


def test_burst_and_refused_gradings_use_no_token() -> None:
    rule = Cooldown(minutes=60, burst=3)
    assert allowance(rule, [], T0).left == 2
    # three at once use the bucket; the fourth (refused) does not delay the refill further
    assert not allowance(rule, minutes(0, 1, 2), T0 + dt.timedelta(minutes=3)).allowed
    back = allowance(rule, minutes(0, 1, 2, 3), T0 + dt.timedelta(minutes=60))
    assert back.allowed and back.left == 0


def test_the_line_says_when_and_how_long_until_the_due_date() -> None:
    rule = Cooldown(minutes=30)
    now = dt.datetime.fromisoformat("2026-10-05T20:00:00+02:00")
    refused = allowance(rule, [now - dt.timedelta(minutes=10)], now)
    assert cooldown_line(refused, rule, DUE, now) == (
        "graded too soon: the next grading is allowed at 2026-10-05 20:20 +02:00 "
        "(due 2026-10-05 23:59 +02:00, 3 h from now; one practice grading every 30 min)")
    assert cooldown_line(allowance(rule, [], now), rule, DUE, now) == (
        "practice grading: the next one is allowed at 2026-10-05 20:30 +02:00 "
        "(due 2026-10-05 23:59 +02:00, 3 h from now; one practice grading every 30 min)")


@given(st.lists(st.integers(0, 600), unique=True, max_size=15))
def test_never_more_gradings_than_the_bucket_allows(attempts: list[int]) -> None:
    """Each attempt sees every earlier attempt (refused ones too, as Gradescope lists them);
    in any hour at most burst + 1 of them ran (the bucket plus one refill)."""
    rule = Cooldown(minutes=60, burst=2)
    times = sorted(minutes(*attempts))
    ran = [t for i, t in enumerate(times) if allowance(rule, times[:i], t).allowed]
    for start in ran:
        window = [m for m in ran if start <= m < start + dt.timedelta(minutes=60)]
        assert len(window) <= rule.burst + 1
    if times:
        assert ran[0] == times[0]  # the first attempt always runs


def test_practice_table(tmp_path: Path) -> None:
    (tmp_path / "course.toml").write_text("[practice]\ncooldown_minutes = 30\nburst = 2\n")
    assert read_cooldown(tmp_path) == Cooldown(minutes=30, burst=2)
    (tmp_path / "course.toml").write_text("[practice]\ncooldown_minutes = 0\n")
    with pytest.raises(ConfigError, match=r"course.toml: \[practice\]: cooldown_minutes"):
        read_cooldown(tmp_path)


def test_gradescope_refuses_a_grading_too_soon_and_keeps_the_last_result(tmp_path: Path
                                                                         ) -> None:
    course_root = tmp_path / "course"
    shutil.copytree(DEFAULT_ROOT / "assignments" / "activations",
                    course_root / "assignments" / "activations")
    (course_root / "solutions" / "hidden").mkdir(parents=True)
    for name in ("course_secret", "hidden/test_activations.py", "hidden/pytest.ini",
                 "hidden/budgets.json"):
        shutil.copy(DEFAULT_ROOT / "solutions" / name, course_root / "solutions" / name)
    (course_root / "course.toml").write_text("[practice]\ncooldown_minutes = 30\n")
    course = load_course(course_root)
    root = tmp_path / "autograder"
    for name, entry in course_entries(course, course.assignments,
                                      read_secret(course.secret_file)).items():
        (root / "source" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "source" / name).write_bytes(entry.data)
    config = AutograderConfig(assignments=("activations",), grader_version=grader.__version__)
    (root / "source" / CONFIG_NAME).write_text(config.to_json())
    (root / "submission").mkdir()
    earlier = {"score": 42.0, "output": "Graded as alice", "tests": []}
    (root / "submission_metadata.json").write_text(json.dumps({
        "created_at": "2026-10-05T20:00:00+02:00",
        "assignment": {"due_date": "2026-10-05T23:59:00+02:00"},
        "users": [{"email": "alice"}],
        "previous_submissions": [{"submission_time": "2026-10-05T19:50:00+02:00",
                                  "score": 42.0, "results": earlier}]}))
    said: list[str] = []
    outcome = autograde(root, env={}, echo=said.append)
    document = outcome.document
    assert schema_problems(outcome.results_json.read_text()) == []
    assert document["score"] == 42.0 and document["extra_data"]["rate_limited"] is True
    assert document["output"].startswith(
        "**Not graded: graded too soon: the next grading is allowed at 2026-10-05 20:20 +02:00")
    assert any("practice cooldown" in line for line in said)
