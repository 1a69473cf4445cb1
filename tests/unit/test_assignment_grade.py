"""The one decision of a student's grade for an assignment: late policy, extension, excused and
override, each rule reached on its own, then Hypothesis for what must hold for every input.

tests/unit/test_scoring.py keeps testing :func:`course_grade`, which delegates here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from submissions.exceptions import (
    NO_EXCEPTIONS,
    ExceptionRefused,
    Exceptions,
    Override,
    check_override,
)
from submissions.lateness import CUTOFF, NONE, LatePolicy
from submissions.scoring import Decision, GradePolicy, StoredReport, assignment_grade, course_grade

CLOSE = datetime(2026, 12, 15, 23, 59, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PENALTY = LatePolicy.parse("penalty:grace=15m,per-day=10%,floor=50%")


def report(n: int, score: int, after: timedelta, **more: object) -> StoredReport:
    """Report ``n`` of ``score``, received ``after`` the close (negative: before)."""
    return StoredReport(n, score, CLOSE + after, False, False, **more)  # type: ignore[arg-type]


def grade_of(reports: list[StoredReport], late: LatePolicy, **kwargs: object) -> Decision:
    return assignment_grade(reports, GradePolicy(late=late), due=CLOSE, **kwargs)  # type: ignore[arg-type]


def test_an_on_time_report_counts_in_full_under_every_policy() -> None:
    for late in (NONE, CUTOFF, PENALTY):
        decision = grade_of([report(1, 20, -HOUR)], late)
        assert decision == Decision(grade=20, raw=20, penalty=0, report_id=1)


def test_each_policy_treats_a_late_report_its_way() -> None:
    late_one = [report(1, 20, 2 * DAY)]  # two started days past the grace: 20 %
    assert grade_of(late_one, NONE) == Decision(20, 20, 0, 1, late=True)
    assert grade_of(late_one, CUTOFF) == Decision(None)
    assert grade_of(late_one, PENALTY) == Decision(16, 20, 4, 1, late=True)


def test_within_the_grace_a_report_is_late_but_not_penalised() -> None:
    decision = grade_of([report(1, 20, timedelta(minutes=15))], PENALTY)
    assert (decision.grade, decision.penalty, decision.late) == (20, 0, True)


def test_the_penalty_comes_before_choosing_the_best() -> None:
    # On time 20; late 25, 30 % off: 17.5 -> 18. The best after penalties is the on-time 20.
    reports = [report(1, 20, -HOUR), report(2, 25, 2 * DAY + HOUR)]
    assert grade_of(reports, PENALTY) == Decision(20, 20, 0, 1)
    # Late 28 with 10 % off (26) beats the on-time 20.
    reports = [report(1, 20, -HOUR), report(2, 28, HOUR)]
    assert grade_of(reports, PENALTY) == Decision(26, 28, 2, 2, late=True)


def test_a_report_that_does_not_count_hides_none_after_it() -> None:
    first = [
        StoredReport(1, 28, CLOSE - HOUR, True, False),  # open flags
        StoredReport(2, 27, CLOSE - HOUR, False, True),  # rejected
        report(3, 26, HOUR),  # late
        report(4, 20, -HOUR),
    ]
    assert grade_of(first, CUTOFF).report_id == 4


def test_of_equal_grades_the_least_penalised_is_the_one_shown() -> None:
    reports = [report(1, 18, -HOUR), report(2, 20, HOUR)]  # 20 - 2 = 18, as the on-time one
    assert grade_of(reports, PENALTY).report_id == 1


def test_latest_takes_the_latest_counted_report_with_its_penalty() -> None:
    reports = [report(1, 28, -HOUR), report(2, 20, HOUR)]
    latest = GradePolicy(grade="latest", late=PENALTY)
    assert assignment_grade(reports, latest, due=CLOSE) == Decision(18, 20, 2, 2, late=True)
    cutoff = GradePolicy(grade="latest", late=CUTOFF)
    assert assignment_grade(reports, cutoff, due=CLOSE).report_id == 1


def test_a_report_held_in_the_outbox_is_judged_by_when_it_was_made() -> None:
    made = CLOSE - HOUR
    held = report(1, 20, 6 * HOUR, created=made)
    assert grade_of([held], CUTOFF).grade == 20
    backdated = report(1, 20, 6 * HOUR, created=made, flag_kinds=frozenset({"future_report"}))
    assert grade_of([backdated], CUTOFF).grade is None
    contradicted = report(
        1, 20, 6 * HOUR, created=made, flag_kinds=frozenset({"evidence_after_report"})
    )
    assert grade_of([contradicted], PENALTY).penalty == 2


def test_an_extension_for_one_student_is_not_for_another() -> None:
    # Both send the same report a day after the close; only Ada has two more days.
    sent = [report(1, 20, DAY)]
    ada = Exceptions(extra_days=2)
    assert grade_of(sent, CUTOFF, exceptions=ada) == Decision(20, 20, 0, 1, extended=True)
    assert grade_of(sent, CUTOFF, exceptions=NO_EXCEPTIONS) == Decision(None)
    assert grade_of(sent, PENALTY, exceptions=ada).penalty == 0
    assert grade_of(sent, PENALTY).penalty == 2
    until = Exceptions(until=CLOSE + 2 * DAY)
    assert grade_of(sent, CUTOFF, exceptions=until).grade == 20


def test_an_extension_never_shortens_the_time() -> None:
    earlier = Exceptions(until=CLOSE - DAY)  # the close moved later since it was given
    assert earlier.due(CLOSE) == CLOSE
    assert not earlier.extends(CLOSE)
    assert grade_of([report(1, 20, -HOUR)], CUTOFF, exceptions=earlier).grade == 20
    assert Exceptions(extra_days=3).due(None) is None  # no close, nothing to extend


def test_excused_means_no_grade_and_says_so() -> None:
    decision = grade_of([report(1, 20, -HOUR)], NONE, exceptions=Exceptions(excused=True))
    assert (decision.grade, decision.excused, decision.raw) == (None, True, 20)
    assert decision.marks == ("excused",)


def test_an_override_wins_over_everything() -> None:
    fixed = Override(25, "lab machine broke during the exam; graded by hand")
    for reports in ([], [report(1, 20, -HOUR)], [report(1, 28, 9 * DAY)]):
        decision = grade_of(reports, CUTOFF, exceptions=Exceptions(override=fixed), max_score=28)
        assert (decision.grade, decision.overridden) == (25, True)
    both = Exceptions(excused=True, override=fixed)
    assert grade_of([], CUTOFF, exceptions=both).marks == ("excused", "overridden")


def test_an_override_must_fit_and_say_why() -> None:
    with pytest.raises(ExceptionRefused, match=r"^an override needs a note saying why$"):
        Override(20, "  ")
    with pytest.raises(ExceptionRefused, match="below 0"):
        Override(-1, "negative")
    with pytest.raises(ExceptionRefused, match="above the assignment's maximum of 28"):
        check_override(Override(29, "extra credit"), 28)
    assert check_override(Override(28, "full marks"), 28).grade == 28
    full = Exceptions(override=Override(28, "full marks"))
    assert grade_of([], CUTOFF, exceptions=full, max_score=28).grade == 28
    over = Exceptions(override=Override(30, "set before the rubric shrank"))
    with pytest.raises(ExceptionRefused, match="above the maximum of 28"):
        grade_of([], CUTOFF, exceptions=over, max_score=28)


def test_an_extension_is_one_thing_or_the_other() -> None:
    both = r"^an extension is a later close or a number of days, not both$"
    with pytest.raises(ExceptionRefused, match=both):
        Exceptions(until=CLOSE + DAY, extra_days=1)
    with pytest.raises(ExceptionRefused, match=r"^an extension is 1 to 366 days$"):
        Exceptions(extra_days=-1)
    with pytest.raises(ExceptionRefused, match=r"^an extension is 1 to 366 days$"):
        Exceptions(extra_days=367)
    assert Exceptions(extra_days=366).due(CLOSE) == CLOSE + 366 * DAY
    with pytest.raises(ExceptionRefused, match=r"^an extension's close needs a time zone$"):
        Exceptions(until=datetime(2026, 12, 20))  # naive: the mistake under test


def test_course_grade_is_the_decision_without_exceptions() -> None:
    reports = [report(1, 10, -HOUR), report(2, 28, HOUR)]
    assert course_grade(reports, closes_at=CLOSE) == 10
    assert course_grade(reports, GradePolicy(include_late=True), closes_at=CLOSE) == 28
    assert course_grade(reports, GradePolicy(late=PENALTY), closes_at=CLOSE) == 26


# Properties over any reports, policy and exceptions

offsets = st.integers(-10 * 86400, 10 * 86400).map(lambda s: timedelta(seconds=s))
stored = st.builds(
    StoredReport,
    id=st.integers(1, 50),
    score=st.integers(0, 28),
    received_at=offsets.map(lambda offset: CLOSE + offset),
    open_flags=st.booleans(),
    rejected=st.booleans(),
    source=st.sampled_from(["self", "verified"]),
    created=st.none() | offsets.map(lambda offset: CLOSE + offset),
    flag_kinds=st.frozensets(st.sampled_from(["future_report", "evidence_after_report", "x"])),
)
penalties = st.builds(
    LatePolicy,
    kind=st.just("penalty"),
    grace=st.integers(0, 86400).map(lambda s: timedelta(seconds=s)),
    per_day=st.integers(1, 100).map(Decimal),
    floor=st.integers(0, 99).map(Decimal),
)
grade_policies = st.builds(
    GradePolicy,
    grade=st.sampled_from(["best", "latest"]),
    include_flagged=st.booleans(),
    sources=st.sampled_from(["self", "verified", "verified-else-self"]),
)
extensions = st.one_of(
    st.builds(Exceptions, extra_days=st.integers(0, 20)),
    st.builds(Exceptions, until=offsets.map(lambda offset: CLOSE + offset)),
)


def _at_least(grade: int | None, other: int | None) -> bool:
    """``grade >= other``, where no grade is below every grade."""
    return other is None or (grade is not None and grade >= other)


@given(st.lists(stored, max_size=6), grade_policies, penalties)
def test_a_penalty_never_raises_a_grade(
    reports: list[StoredReport], policy: GradePolicy, late: LatePolicy
) -> None:
    penalised = assignment_grade(reports, replace(policy, late=late), due=CLOSE)
    counted_in_full = assignment_grade(reports, replace(policy, late=NONE), due=CLOSE)
    assert _at_least(counted_in_full.grade, penalised.grade)
    if penalised.grade is not None:
        assert penalised.raw is not None
        assert penalised.grade == penalised.raw - penalised.penalty
        assert penalised.grade >= penalised.raw * late.floor / 100
        assert penalised.late or penalised.penalty == 0


@given(st.lists(stored, max_size=6), grade_policies, st.sampled_from([NONE, CUTOFF]) | penalties)
def test_an_on_time_grade_has_no_penalty(
    reports: list[StoredReport], policy: GradePolicy, late: LatePolicy
) -> None:
    decision = assignment_grade(reports, replace(policy, late=late), due=CLOSE)
    if not decision.late:
        assert decision.penalty == 0


@given(
    st.lists(stored, max_size=6),
    grade_policies.filter(lambda p: p.grade == "best"),
    st.sampled_from([NONE, CUTOFF]) | penalties,
    extensions,
)
def test_an_extension_never_lowers_a_grade(
    reports: list[StoredReport], policy: GradePolicy, late: LatePolicy, extension: Exceptions
) -> None:
    """Under ``best`` (the default). Under ``latest`` with ``cutoff`` it may, by design: a
    report sent within the extended time is the student's latest word, and it counts."""
    policy = replace(policy, late=late)
    without = assignment_grade(reports, policy, due=CLOSE)
    extended = assignment_grade(reports, policy, due=CLOSE, exceptions=extension)
    assert _at_least(extended.grade, without.grade)


@given(st.lists(stored, max_size=6), grade_policies, penalties, extensions, st.integers(0, 28))
def test_an_override_wins_and_excused_has_no_grade(
    reports: list[StoredReport],
    policy: GradePolicy,
    late: LatePolicy,
    extension: Exceptions,
    grade: int,
) -> None:
    policy = replace(policy, late=late)
    override = Override(grade, "set by hand")
    for excused in (False, True):
        overridden = Exceptions(extension.until, extension.extra_days, excused, override)
        decision = assignment_grade(reports, policy, due=CLOSE, exceptions=overridden, max_score=28)
        assert (decision.grade, decision.overridden) == (grade, True)
    excused = Exceptions(extension.until, extension.extra_days, excused=True)
    decision = assignment_grade(reports, policy, due=CLOSE, exceptions=excused)
    assert (decision.grade, decision.excused, decision.overridden) == (None, True, False)
