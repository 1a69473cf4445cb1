"""The late policy: the text an instructor types, when a report counts as submitted, and the
penalty's arithmetic at its edges (grace, day edges, floor), with Hypothesis for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from submissions.lateness import (
    CUTOFF,
    NONE,
    BadLatePolicy,
    LatePolicy,
    format_duration,
    late_days,
    lateness,
    parse_duration,
    penalty_percent,
    penalty_points,
    submitted_at,
)

DUE = datetime(2026, 12, 15, 23, 59, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
GRACE = timedelta(minutes=15)
TEN_A_DAY = LatePolicy.parse("penalty:grace=15m,per-day=10%,floor=50%")


# The text form


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("none", NONE),
        ("cutoff", CUTOFF),
        (" Cutoff ", CUTOFF),
        (
            "penalty:grace=15m,per-day=10%,floor=50%",
            LatePolicy("penalty", GRACE, Decimal(10), Decimal(50)),
        ),
        ("penalty:per-day=10", LatePolicy("penalty", per_day=Decimal(10))),
        (
            "penalty: floor=0%, per-day=12.5%, grace=1d2h",
            LatePolicy("penalty", timedelta(hours=26), Decimal("12.5")),
        ),
    ],
)
def test_the_text_an_instructor_types(text: str, policy: LatePolicy) -> None:
    assert LatePolicy.parse(text) == policy


LONG = "x" * 50
ONE_OF = "is not none, cutoff or penalty:grace=15m,per-day=10%,floor=50%"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"late policy '' {ONE_OF}"),
        (f"late{LONG}", f"late policy '{('late' + LONG)[:40]}' {ONE_OF}"),
        ("cutoff:grace=1h", "late policy cutoff takes no settings: 'cutoff:grace=1h'"),
        ("penalty", "penalty needs per-day=, e.g. penalty:per-day=10%"),
        ("penalty:grace=15m", "penalty needs per-day=, e.g. penalty:per-day=10%"),
        ("penalty:per-day=10%,per-day=5%", "per-day is given twice"),
        ("penalty:ceiling=90%", "'ceiling=90%': expected grace=, per-day= or floor="),
        (f"penalty:{LONG}=1", f"'{(LONG + '=1')[:40]}': expected grace=, per-day= or floor="),
        ("penalty:per-day", "'per-day': expected grace=, per-day= or floor="),
        (
            "penalty:per-day=1%,floor=per-day=10%",
            "floor 'per-day=10%' is not a percentage like 10%",
        ),
        (f"penalty:per-day={LONG}", f"per-day '{LONG[:20]}' is not a percentage like 10%"),
        ("penalty:per-day=-5%", "per-day '-5%' is not a percentage like 10%"),
        ("penalty:per-day=0%", "per-day must be above 0% and at most 100% (no penalty: none)"),
        ("penalty:per-day=101%", "per-day must be above 0% and at most 100% (no penalty: none)"),
        (
            "penalty:per-day=1%,floor=100%",
            "floor must be at least 0% and below 100% (no penalty: none)",
        ),
        ("penalty:per-day=1%,grace=soon", "grace 'soon' is not a duration like 15m, 2h or 1d"),
        (
            f"penalty:per-day=1%,grace={LONG}",
            f"grace '{LONG[:20]}' is not a duration like 15m, 2h or 1d",
        ),
        ("penalty:per-day=1%,grace=15", "grace '15' is not a duration like 15m, 2h or 1d"),
        ("penalty:per-day=10%,grace=366d", "grace must be between 0 and 365d"),
    ],
)
def test_bad_text_is_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(BadLatePolicy) as refused:
        LatePolicy.parse(text)
    assert str(refused.value) == message
    assert isinstance(refused.value, ValueError)


def test_a_policy_built_wrong_is_refused() -> None:
    for extra in ({"grace": GRACE}, {"per_day": Decimal(5)}, {"floor": Decimal(5)}):
        with pytest.raises(
            BadLatePolicy, match=r"^late policy none takes no grace, per-day or floor$"
        ):
            LatePolicy("none", **extra)  # type: ignore[arg-type]
    with pytest.raises(BadLatePolicy) as refused:
        LatePolicy("lenient")  # type: ignore[arg-type]
    assert str(refused.value) == "late policy 'lenient' is not one of none, cutoff, penalty"


policies = st.builds(
    LatePolicy,
    kind=st.just("penalty"),
    grace=st.integers(0, 365 * 86400).map(lambda s: timedelta(seconds=s)),
    per_day=st.integers(1, 10000).map(lambda n: Decimal(n) / 100),
    floor=st.integers(0, 9999).map(lambda n: Decimal(n) / 100),
)


@given(st.one_of(st.just(NONE), st.just(CUTOFF), policies))
def test_the_text_form_reads_back_to_the_same_policy(policy: LatePolicy) -> None:
    assert LatePolicy.parse(str(policy)) == policy


def test_the_text_form_is_canonical() -> None:
    assert str(TEN_A_DAY) == "penalty:grace=15m,per-day=10%,floor=50%"
    assert format_duration(timedelta(hours=1, minutes=30)) == "1h30m"
    assert format_duration(timedelta(0)) == "0"
    assert parse_duration("1d1h1m1s") == DAY + timedelta(hours=1, minutes=1, seconds=1)
    assert parse_duration("2h") == timedelta(hours=2)


def test_percentages_are_written_as_people_write_them() -> None:
    odd = LatePolicy("penalty", per_day=Decimal("12.50"), floor=Decimal("1E+1"))
    assert str(odd) == "penalty:grace=0,per-day=12.5%,floor=10%"
    assert (
        str(LatePolicy("penalty", per_day=Decimal("10.0")))
        == "penalty:grace=0,per-day=10%,floor=0%"
    )


# When a report counts as submitted


def test_a_report_counts_when_it_was_made_if_its_evidence_agrees() -> None:
    made, arrived = DUE - timedelta(hours=1), DUE + timedelta(hours=5)  # held in the outbox
    assert submitted_at(arrived, made) == made
    assert submitted_at(arrived, made, ["no_evidence", "shared_evidence"]) == made
    assert submitted_at(arrived, made, ["evidence_after_report"]) == arrived
    assert submitted_at(arrived, made, ["future_report"]) == arrived
    assert submitted_at(arrived) == arrived  # its date unknown


def test_a_report_never_counts_later_than_it_arrived() -> None:
    made, arrived = DUE + timedelta(minutes=3), DUE  # a clock 3 minutes fast: no flag yet
    assert submitted_at(arrived, made) == arrived


# How late, and what it costs


def test_lateness_against_the_due_time() -> None:
    assert lateness(DUE, DUE) == timedelta(0)
    assert lateness(DUE + SECOND, DUE) == SECOND
    assert lateness(DUE - DAY, DUE) == timedelta(0)
    assert lateness(DUE + DAY, None) == timedelta(0)  # no close: never late


@pytest.mark.parametrize(
    ("late", "days", "points"),
    [
        (timedelta(0), 0, 0),
        (GRACE, 0, 0),  # the grace's edge, exactly: no penalty
        (GRACE + timedelta(microseconds=1), 1, 10),
        (GRACE + SECOND, 1, 10),  # one second past the grace: day 1
        (GRACE + DAY, 1, 10),  # a whole day past it: still day 1
        (GRACE + DAY + SECOND, 2, 20),  # and a second more: day 2
        (GRACE + 5 * DAY, 5, 50),  # at the floor
        (GRACE + 5 * DAY + SECOND, 6, 50),  # past it: the floor holds
        (GRACE + 300 * DAY, 300, 50),
    ],
)
def test_a_percentage_per_started_day_after_the_grace_down_to_the_floor(
    late: timedelta, days: int, points: int
) -> None:
    assert late_days(TEN_A_DAY, late) == days
    assert penalty_points(TEN_A_DAY, 100, late) == points


def test_penalties_are_whole_points_rounded_down() -> None:
    assert penalty_points(TEN_A_DAY, 25, GRACE + SECOND) == 2  # 2.5 points: 2
    assert penalty_points(TEN_A_DAY, 25, GRACE + 9 * DAY) == 12  # floor 12.5 kept: 12 off
    assert penalty_points(TEN_A_DAY, 0, GRACE + DAY) == 0
    everything = LatePolicy.parse("penalty:per-day=100%")
    assert penalty_points(everything, 1, SECOND) == 1
    quarter = LatePolicy.parse("penalty:per-day=12.5%")
    assert penalty_percent(quarter, 3 * DAY) == Decimal("37.5")
    assert penalty_points(quarter, 8, 3 * DAY) == 3


def test_none_and_cutoff_take_nothing_off() -> None:
    assert late_days(NONE, 9 * DAY) == late_days(CUTOFF, 9 * DAY) == 0
    assert penalty_points(NONE, 28, 9 * DAY) == 0
    assert penalty_points(CUTOFF, 28, 9 * DAY) == 0
    assert (NONE.counts_late, CUTOFF.counts_late, TEN_A_DAY.counts_late) == (True, False, True)


lates = st.integers(0, 400 * 86400 * 10**6).map(lambda us: timedelta(microseconds=us))
scores = st.integers(0, 1000)


@given(policies, scores, lates)
def test_a_penalty_never_raises_a_grade_nor_sinks_below_the_floor(
    policy: LatePolicy, score: int, late: timedelta
) -> None:
    final = score - penalty_points(policy, score, late)
    assert final <= score
    assert final >= score * policy.floor / 100


@given(policies, scores, lates, lates)
def test_a_penalty_grows_with_lateness(
    policy: LatePolicy, score: int, one: timedelta, other: timedelta
) -> None:
    earlier, later = sorted((one, other))
    assert penalty_points(policy, score, earlier) <= penalty_points(policy, score, later)


@given(policies, scores, st.integers(-400 * 86400, 0))
def test_on_time_or_within_the_grace_costs_nothing(
    policy: LatePolicy, score: int, seconds: int
) -> None:
    submitted = DUE + timedelta(seconds=seconds)
    assert penalty_points(policy, score, lateness(submitted, DUE)) == 0
    assert penalty_points(policy, score, policy.grace) == 0
