"""Scoring, decision by decision: what a report earns from the server's rubric, what is flagged
and why, and which of a student's reports make their course grade.

tests/server/test_scoring.py scores reports read from XML against the shipped rubric; these
build the report and a small rubric directly, so each flag and each rule of the course grade
is reached on its own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from submissions.dialect import CheckResult, Report
from submissions.integrity import Flag
from submissions.rubric import Rubric, RubricEntry
from submissions.scoring import (
    GradePolicy,
    Score,
    ScoredCheck,
    StoredReport,
    counts,
    course_grade,
    is_late,
    points_table,
    score_report,
    source_counted,
)

RUBRIC = Rubric(
    "docker_beginners",
    (
        RubricEntry("a.one", "task1", "One", 2),
        RubricEntry("a.two", "task1", "Two", 3),
        RubricEntry("b.one", "task2", "Three", 5),
    ),
    known_digests=frozenset({"sha256:ours"}),
    known_versions=frozenset({"0.1.0"}),
)


def result(check_id: str, status: str = "passed", points: int = 0, **more: str) -> CheckResult:
    return CheckResult(check_id, "task9", check_id, status, points, 9, **more)  # type: ignore[arg-type]


def report(*results: CheckResult, **overrides: str) -> Report:
    base = Report(
        "docker_beginners", "0.1.0", "sha256:ours", "r-1", "2026-12-01T11:00:00+00:00", "E", ()
    )
    return replace(base, results=results, **overrides)


def test_passed_checks_earn_the_rubrics_points_and_nothing_is_flagged() -> None:
    score = score_report(
        report(result("a.one"), result("a.two", "failed", message="no", hint="do")), RUBRIC
    )
    assert score == Score(
        score=2,
        max_score=10,
        checks=(
            ScoredCheck("a.one", "task1", "passed", 2, 2, "", ""),
            ScoredCheck("a.two", "task1", "failed", 0, 3, "no", "do"),
        ),
        flags=(),
    )
    assert score.flagged is False
    assert score.flag_reason == ""


def test_the_points_table_is_score_reports_rule_for_every_check_and_status() -> None:
    """What a rescore sums (stored check rows looked up in the table) is what ingest scored."""
    table = {
        (check_id, status): (earned, most)
        for check_id, status, earned, most in points_table(RUBRIC)
    }
    assert len(table) == 3 * 3
    assert table["a.two", "passed"] == (3, 3) and table["a.two", "error"] == (0, 3)
    results = (result("a.one"), result("a.two", "failed"), result("b.one", "error"), result("zz"))
    scored = score_report(report(*results), RUBRIC)
    summed = sum(table.get((r.id, r.status), (0, 0))[0] for r in results)
    assert summed == scored.score == 2
    assert [table.get((c.check_id, c.status), (0, 0)) for c in scored.checks] == [
        (c.points, c.max_points) for c in scored.checks
    ]


def test_what_a_report_claims_is_never_counted() -> None:
    score = score_report(report(result("a.one", points=100), result("b.one", points=1)), RUBRIC)
    assert score.score == 7
    assert [check.points for check in score.checks] == [2, 5]
    assert not score.flagged


@pytest.mark.parametrize("status", ["failed", "error"])
def test_a_check_that_did_not_pass_claiming_nothing_is_not_flagged(status: str) -> None:
    score = score_report(report(result("a.one", status, points=0)), RUBRIC)
    assert (score.score, score.flags) == (0, ())


@pytest.mark.parametrize("status", ["failed", "error"])
def test_points_claimed_for_a_check_that_did_not_pass_are_flagged(status: str) -> None:
    score = score_report(report(result("a.one", status, points=1), result("a.two")), RUBRIC)
    assert score.score == 3
    assert score.flags == (
        Flag("not_our_checks", "points claimed for checks that did not pass: a.one"),
    )
    assert score.flagged is True
    assert score.flag_reason == "points claimed for checks that did not pass: a.one"


def test_a_report_of_another_lab_is_flagged() -> None:
    score = score_report(report(result("a.one"), lab="tiny"), RUBRIC)
    assert score.score == 2
    assert score.flags == (
        Flag("not_our_checks", "lab 'tiny' is not this server's 'docker_beginners'"),
    )


def test_unknown_digest_and_version_are_flagged_and_cut() -> None:
    digest, version = "sha256:" + "e" * 70, "9." * 30
    score = score_report(report(checks_digest=digest, grader_version=version), RUBRIC)
    assert score.flags == (
        Flag(
            "not_our_checks",
            f"unknown checks digest {digest[:64]!r}; unknown grader version {version[:40]!r}",
        ),
    )


def test_every_reason_goes_into_one_flag_in_order() -> None:
    unknown = [result(f"x.{n}") for n in range(6)]
    claimed = [result(f"a.{word}", "failed", points=1) for word in ("one", "two")]
    score = score_report(
        report(*unknown, *claimed, lab="tiny", checks_digest="d", grader_version="v"), RUBRIC
    )
    assert score.flags == (
        Flag(
            "not_our_checks",
            "lab 'tiny' is not this server's 'docker_beginners'; "
            "unknown checks digest 'd'; unknown grader version 'v'; "
            "checks not in the rubric: x.0, x.1, x.2, x.3, x.4; "
            "points claimed for checks that did not pass: a.one, a.two",
        ),
    )


def test_at_most_five_unearned_claims_are_named() -> None:
    claimed = [result(f"c.{n}", "error", points=1) for n in range(7)]
    (flag,) = score_report(report(*claimed), RUBRIC).flags
    assert flag.reason.endswith("did not pass: c.0, c.1, c.2, c.3, c.4")


def test_a_check_the_rubric_lacks_earns_nothing_and_keeps_its_task() -> None:
    score = score_report(report(result("bonus.check"), result("a.one")), RUBRIC)
    assert score.checks[0] == ScoredCheck("bonus.check", "task9", "passed", 0, 0, "", "")
    assert score.checks[1].task == "task1"
    assert score.score == 2
    assert score.flag_reason == "checks not in the rubric: bonus.check"


def test_a_grading_error_is_its_own_flag_after_the_others() -> None:
    error = "the run timed out " + "x" * 300
    score = score_report(report(result("a.one"), lab="tiny", grading_error=error), RUBRIC)
    assert score.flags == (
        Flag("not_our_checks", "lab 'tiny' is not this server's 'docker_beginners'"),
        Flag("grading_error", f"grading failed on the student's side: {error[:200]}"),
    )
    assert score.flag_reason == (
        "lab 'tiny' is not this server's 'docker_beginners'; "
        f"grading failed on the student's side: {error[:200]}"
    )


def test_a_partial_report_scores_out_of_the_whole_rubric() -> None:
    score = score_report(report(result("b.one")), RUBRIC)
    assert (score.score, score.max_score, score.flagged) == (5, 10, False)


# The course grade

DEADLINE = datetime(2026, 12, 15, tzinfo=UTC)


def stored(
    n: int,
    score: int,
    *,
    days: int = 0,
    open_flags: bool = False,
    rejected: bool = False,
    source: str = "self",
) -> StoredReport:
    return StoredReport(
        n,
        score,
        DEADLINE + timedelta(days=days),
        open_flags,
        rejected,
        source,  # type: ignore[arg-type]
    )


def test_no_report_or_none_that_counts_is_no_grade() -> None:
    assert course_grade([]) is None
    assert course_grade([stored(1, 10, rejected=True)]) is None


def test_the_best_score_by_default_the_latest_when_asked() -> None:
    reports = [stored(1, 10, days=-3), stored(2, 25, days=-2), stored(3, 15, days=-1)]
    assert course_grade(reports) == 25
    assert course_grade(reports, GradePolicy(grade="latest")) == 15
    assert course_grade(reports[::-1], GradePolicy(grade="latest")) == 15


def test_the_latest_of_two_at_the_same_time_is_the_one_stored_last() -> None:
    reports = [stored(7, 20, days=-1), stored(8, 12, days=-1), stored(6, 28, days=-1)]
    assert course_grade(reports, GradePolicy(grade="latest")) == 12


def test_reports_with_open_flags_count_only_when_the_policy_says() -> None:
    reports = [stored(1, 10, days=-2), stored(2, 28, days=-1, open_flags=True)]
    assert course_grade(reports) == 10
    assert course_grade(reports, GradePolicy(include_flagged=True)) == 28


def test_late_reports_count_only_when_the_policy_says() -> None:
    reports = [stored(1, 10), stored(2, 28, days=1)]
    assert course_grade(reports, closes_at=DEADLINE) == 10
    assert course_grade(reports, GradePolicy(include_late=True), closes_at=DEADLINE) == 28
    assert course_grade(reports) == 28  # no deadline: nothing is late


def test_a_report_at_the_deadline_is_on_time() -> None:
    assert is_late(DEADLINE, DEADLINE) is False
    assert is_late(DEADLINE + timedelta(microseconds=1), DEADLINE) is True
    assert is_late(DEADLINE, None) is False


def test_a_rejected_report_never_counts() -> None:
    policy = GradePolicy(include_flagged=True, include_late=True)
    rejected = stored(1, 28, rejected=True, open_flags=True)
    assert counts(rejected, policy, None) is False
    assert counts(stored(2, 5, open_flags=True, days=9), policy, DEADLINE) is True
    assert counts(stored(3, 5, open_flags=True), GradePolicy(), None) is False
    assert counts(stored(4, 5, days=9), GradePolicy(), DEADLINE) is False
    assert counts(stored(5, 5), GradePolicy(), DEADLINE) is True


def test_which_source_a_grade_is_taken_from() -> None:
    own, verified = stored(1, 28), stored(2, 14, source="verified")
    assert source_counted([own, verified], "self") == "self"
    assert source_counted([own], "verified") == "verified"
    assert source_counted([own, verified], "verified-else-self") == "verified"
    assert source_counted([own], "verified-else-self") == "self"
    rejected = stored(3, 14, source="verified", rejected=True)
    assert source_counted([own, rejected], "verified-else-self") == "self"


def test_a_verified_report_decides_the_grade_by_default() -> None:
    own, verified = stored(1, 28), stored(2, 14, source="verified")
    assert course_grade([own, verified]) == 14
    assert course_grade([own, verified], GradePolicy(sources="self")) == 28
    assert course_grade([own], GradePolicy(sources="verified")) is None
    held_back = stored(3, 20, source="verified", open_flags=True)
    assert course_grade([own, held_back]) is None  # waits for the instructor
    rejected = stored(4, 20, source="verified", rejected=True)
    assert course_grade([own, rejected]) == 28
