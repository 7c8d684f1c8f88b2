"""The late policy over a fixed clock: raw -> penalty -> grace days -> override -> final.

Every case checks the exact final score and the exact line the student reads. The due date is
the issue's example, 2026-10-05 23:59 at +02:00; submission times are offsets from it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.core.deadlines import (
    Extension,
    Handed,
    LatePolicy,
    Override,
    grade_one,
    grade_student,
    started,
)
from grader.report.late import late_line, override_line, record_lines

DUE = dt.datetime.fromisoformat("2026-10-05T23:59:00+02:00")
DUE2 = dt.datetime.fromisoformat("2026-10-12T23:59:00+02:00")
POLICY = LatePolicy(penalty_per_day=10, max_penalty=30, max_days=7)


def at(**delta: float) -> dt.datetime:
    return DUE + dt.timedelta(**delta)


def one(policy: LatePolicy, submitted: dt.datetime | None, raw: float = 80.0, **kw: object):
    record, _ = grade_one(policy, Handed("forward", raw, due=DUE, submitted_at=submitted,
                                         **kw), policy.grace_days)  # type: ignore[arg-type]
    return record


def test_on_time() -> None:
    record = one(POLICY, at(hours=-1))
    assert (record.raw_score, record.late_penalty, record.final_score) == (80.0, 0.0, 80.0)
    assert late_line(record) == "handed in on time (due 2026-10-05 23:59 +02:00)"


def test_exactly_at_the_due_date_is_on_time() -> None:
    record = one(POLICY, DUE)
    assert record.final_score == 80.0 and not record.late


def test_one_hour_late_costs_one_started_day() -> None:
    record = one(POLICY, at(hours=1))
    assert (record.late_penalty, record.final_score) == (8.0, 72.0)
    assert late_line(record) == "handed in 1 h after the due date: -10%"


def test_one_second_late_is_a_started_day() -> None:
    assert one(POLICY, at(seconds=1)).final_score == 72.0
    assert late_line(one(POLICY, at(seconds=1))) == (
        "handed in less than a minute after the due date: -10%")


def test_three_days_late_per_started_day() -> None:
    record = one(POLICY, at(days=3))
    assert (record.penalty_percent, record.final_score) == (30.0, 56.0)
    assert late_line(record) == "handed in 3 days after the due date: -30%"


def test_three_days_two_hours_late_hits_the_cap() -> None:
    record = one(POLICY, at(days=3, hours=2))  # 4 started days: 40%, capped at 30%
    assert (record.penalty_percent, record.capped, record.final_score) == (30.0, True, 56.0)
    assert late_line(record) == "handed in 3 days 2 h after the due date: -30% (the maximum)"


def test_penalty_per_hour() -> None:
    policy = LatePolicy(penalty_per_hour=2, max_penalty=50)
    assert one(policy, at(hours=2, minutes=30)).final_score == 75.2  # 3 started hours: -6%
    assert one(policy, at(days=2)).final_score == 40.0  # 96% capped at 50%


def test_past_the_cutoff_is_not_accepted() -> None:
    record = one(POLICY, at(days=7, minutes=1))
    assert (record.final_score, record.late_penalty, record.not_accepted) == (0.0, 80.0, True)
    assert late_line(record) == ("handed in 7 days after the due date, past the 7-day cutoff: "
                                 "not accepted, 0 points")
    assert one(POLICY, at(days=7)).final_score == 56.0  # the last accepted moment


def test_an_extension_makes_it_on_time() -> None:
    extension = Extension("alice", "forward", "illness", extra_days=2)
    record = one(POLICY, at(days=1, hours=3), extension=extension)
    assert record.final_score == 80.0 and record.due == "2026-10-07T23:59:00+02:00"
    assert late_line(record) == ("handed in on time (your extended due date "
                                 "2026-10-07 23:59 +02:00: illness)")


def test_an_extension_to_a_date_moves_the_cutoff_too() -> None:
    extension = Extension("alice", "forward", "exchange term", due=at(days=10))
    record = one(POLICY, at(days=12), extension=extension)  # 2 days after the new date
    assert (record.final_score, record.not_accepted) == (64.0, False)


def test_the_issues_example_line() -> None:
    policy = LatePolicy(penalty_per_day=10, grace_days=3, grace_days_per_assignment=1)
    record = one(policy, at(days=1, hours=3))
    assert (record.grace_used, record.grace_left, record.final_score) == (1, 2, 72.0)
    assert late_line(record) == ("handed in 1 day 3 h after the due date: -10%, "
                                 "1 grace day used, 2 left")


def test_grace_days_spent_across_two_assignments_in_due_date_order() -> None:
    policy = LatePolicy(penalty_per_day=10, grace_days=2)
    first = Handed("forward", 80.0, due=DUE, submitted_at=at(days=1, hours=3))  # 2 days
    second = Handed("backprop", 50.0, due=DUE2,
                    submitted_at=DUE2 + dt.timedelta(hours=5))
    # given in the other order: the earlier due date still spends the budget first
    records = grade_student(policy, [second, first])
    assert (records["forward"].grace_used, records["forward"].final_score) == (2, 80.0)
    assert (records["backprop"].grace_used, records["backprop"].final_score) == (0, 45.0)
    assert late_line(records["forward"]) == ("handed in 1 day 3 h after the due date: "
                                             "no penalty, 2 grace days used, 0 left")
    assert late_line(records["backprop"]) == ("handed in 5 h after the due date: -10%, "
                                              "no grace days left")


def test_grace_days_are_not_spent_past_the_cutoff() -> None:
    policy = LatePolicy(penalty_per_day=10, grace_days=2, max_days=3)
    records = grade_student(policy, [
        Handed("forward", 80.0, due=DUE, submitted_at=at(days=4)),
        Handed("backprop", 50.0, due=DUE2, submitted_at=DUE2 + dt.timedelta(hours=1))])
    assert records["forward"].final_score == 0.0 and records["forward"].grace_used == 0
    assert records["backprop"].grace_used == 1 and records["backprop"].final_score == 50.0


def test_an_override_with_its_reason() -> None:
    override = Override("alice", "forward", 90.0, "regrade request: test_x was too strict",
                        "Dr. Smith")
    record = one(POLICY, at(days=2), override=override)
    assert (record.raw_score, record.late_penalty, record.final_score) == (80.0, 16.0, 90.0)
    assert record_lines(record) == [
        "handed in 2 days after the due date: -20%",
        "score set to 90 by Dr. Smith: regrade request: test_x was too strict"]
    assert override_line(record.override) == record_lines(record)[1]  # type: ignore[arg-type]


def test_unknown_time_is_never_late() -> None:
    record = one(POLICY, None)
    assert record.final_score == 80.0
    assert late_line(record) == ("submission time not known, so no late penalty "
                                 "(due 2026-10-05 23:59 +02:00)")


def test_no_due_date_no_line() -> None:
    record, _ = grade_one(POLICY, Handed("forward", 80.0, submitted_at=at(days=30)), 0)
    assert record.final_score == 80.0 and late_line(record) == ""


def test_a_missing_submission_has_no_late_line() -> None:
    record, _ = grade_one(POLICY, Handed("forward", 0.0, due=DUE, handed_in=False), 0)
    assert record.final_score == 0.0 and late_line(record, handed_in=False) == ""


@pytest.mark.parametrize(("seconds", "days"), [(0, 0), (1, 1), (86400, 1), (86401, 2)])
def test_started_days(seconds: int, days: int) -> None:
    assert started(dt.timedelta(seconds=seconds), dt.timedelta(days=1)) == days


# --------------------------------------------------------------------------- properties

policies = st.builds(
    LatePolicy,
    penalty_per_day=st.floats(0, 50), penalty_per_hour=st.floats(0, 5),
    max_penalty=st.floats(0, 100), max_days=st.none() | st.floats(0, 20),
    grace_days=st.integers(0, 5), grace_days_per_assignment=st.none() | st.integers(0, 3))
lateness = st.integers(-3 * 86400, 30 * 86400)
raws = st.floats(0, 100)


@given(policies, raws, lateness)
def test_final_never_above_raw_nor_below_zero(policy: LatePolicy, raw: float,
                                              seconds: int) -> None:
    record = one(policy, at(seconds=seconds), raw=raw)
    assert 0.0 <= record.final_score <= record.raw_score
    assert record.final_score == pytest.approx(record.raw_score - record.late_penalty)


@given(policies, raws, lateness, lateness)
def test_monotone_in_lateness(policy: LatePolicy, raw: float, a: int, b: int) -> None:
    early, late = sorted((a, b))
    assert one(policy, at(seconds=late), raw=raw).final_score <= \
        one(policy, at(seconds=early), raw=raw).final_score


@given(policies, st.lists(st.tuples(raws, lateness), min_size=1, max_size=5))
def test_grace_budget_is_never_overspent(policy: LatePolicy,
                                         items: list[tuple[float, int]]) -> None:
    handed = [Handed(f"a{i}", raw, due=DUE + dt.timedelta(days=7 * i),
                     submitted_at=DUE + dt.timedelta(days=7 * i, seconds=late))
              for i, (raw, late) in enumerate(items)]
    records = grade_student(policy, handed)
    assert sum(r.grace_used for r in records.values()) <= policy.grace_days
    for record in records.values():
        assert record.penalty_percent <= max(policy.max_penalty, 100.0 * record.not_accepted)


@given(policies, raws, lateness, st.floats(0, 100))
def test_only_an_override_lifts_the_final_score(policy: LatePolicy, raw: float, seconds: int,
                                                points: float) -> None:
    override = Override("alice", "forward", points, "reason", "who")
    record = one(policy, at(seconds=seconds), raw=raw, override=override)
    assert record.final_score == round(points, 6)
