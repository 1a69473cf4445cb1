"""Per-report integrity flags on concrete inputs, each also shown NOT raised on the honest one;
and the one function that decides a course grade."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devlab.server.reports import ALPINE, FILES, Lab, hand_typed, make_report, report_xml
from submissions.dialect import CheckResult, Evidence, Report
from submissions.integrity import KINDS, Flag, check_report, sharing_keys
from submissions.reader import read_report
from submissions.rubric import shipped_rubric
from submissions.scoring import GradePolicy, StoredReport, course_grade, score_report

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _received_now() -> None:
    """Reports made during a test are received "now": the suite may have run for minutes
    since this module was collected, and a report from the future is flagged."""
    global NOW
    NOW = datetime.now(UTC).replace(microsecond=0)


def kinds(report: Report, **kwargs: object) -> list[str]:
    options: dict[str, object] = {"received_at": NOW, **kwargs}
    return [flag.kind for flag in check_report(report, **options)]  # type: ignore[arg-type]


def with_evidence(report: Report, check_id: str, *evidence: Evidence) -> Report:
    """``report`` with ``check_id``'s evidence replaced."""
    results = tuple(
        replace(r, evidence=evidence) if r.id == check_id else r for r in report.results
    )
    return replace(report, results=results)


def test_an_honest_report_earns_no_flag() -> None:
    report = read_report(report_xml())
    assert check_report(report, received_at=datetime.now(UTC)) == ()
    assert all(r.evidence for r in report.results if r.passed)


def test_the_hand_typed_report_of_the_issue_has_no_evidence() -> None:
    report = read_report(hand_typed())
    assert report.dialect_version == "1" and len(report.results) == 17
    flags = check_report(report, received_at=NOW)
    assert [f.kind for f in flags] == ["no_evidence"]
    assert "first dialect" in flags[0].reason and "17 passed check(s)" in flags[0].reason
    typed_x = read_report(hand_typed(engine_id="x"))  # as issue 7 typed it
    assert kinds(typed_x) == ["no_evidence", "odd_engine_id"]


def test_a_passed_check_without_evidence_is_named() -> None:
    report = with_evidence(make_report(), "mydb.version")
    flags = check_report(report, received_at=NOW)
    assert flags == (Flag("no_evidence", "no evidence for 1 passed check(s): mydb.version"),)
    failed = make_report(failing=("mydb.version",))  # a failed check needs none
    assert kinds(failed) == []


GOOD = "a" * 64


@pytest.mark.parametrize(
    ("evidence", "problem"),
    [
        (Evidence("container", "abc123", NOW.isoformat()), "container id 'abc123' is not 64 hex"),
        (Evidence("container", "A" * 64, NOW.isoformat()), "is not 64 hex digits"),
        (Evidence("event", "g" * 64, NOW.isoformat()), "event id"),
        (Evidence("image", GOOD, NOW.isoformat()), "is not sha256: and 64 hex digits"),
        (Evidence("file", "not-a-hash"), "file id 'not-a-hash' is not 64 hex digits"),
        (Evidence("container", GOOD, "yesterday"), "time 'yesterday' is not an ISO 8601 time"),
        (Evidence("image", "sha256:" + GOOD), "has no time"),
    ],
)
def test_evidence_not_as_docker_writes_it(evidence: Evidence, problem: str) -> None:
    report = with_evidence(make_report(), "alpine.hostname", evidence)
    flags = check_report(report, received_at=NOW)
    assert [f.kind for f in flags] == ["bad_evidence"]
    assert problem in flags[0].reason and "alpine.hostname" in flags[0].reason


def test_well_formed_evidence_of_every_kind_is_not_flagged() -> None:
    good = (
        Evidence("container", GOOD, NOW.isoformat(), ALPINE, "x"),
        Evidence("event", "b" * 64, (NOW - timedelta(days=1)).isoformat(), name="create"),
        Evidence("image", "sha256:" + "c" * 64, "2026-01-01T00:00:00.123456789Z"),
        Evidence("file", FILES["hello/index.js"], name="hello/index.js"),
    )
    assert (
        kinds(with_evidence(make_report(created=NOW.isoformat()), "alpine.hostname", *good)) == []
    )


def test_evidence_newer_than_the_report() -> None:
    created = NOW - timedelta(minutes=1)
    base = make_report(created=created.isoformat())
    later = Evidence("container", GOOD, (created + timedelta(seconds=2)).isoformat(), ALPINE)
    flags = check_report(with_evidence(base, "alpine.hostname", later), received_at=NOW)
    assert [f.kind for f in flags] == ["evidence_after_report"]
    assert "alpine.hostname: container aaaaaaaaaaaa" in flags[0].reason
    # created is whole seconds: up to one second later is the same moment
    within = replace(later, created=(created + timedelta(seconds=0.9)).isoformat())
    assert kinds(with_evidence(base, "alpine.hostname", within)) == []


def test_a_container_created_before_the_image_it_runs() -> None:
    lab = Lab()
    report = make_report(host=lab)
    early = Evidence("container", lab.tweet_container, lab.at(9), lab.tweet_image, "tweet")
    flags = check_report(with_evidence(report, "tweet.published", early), received_at=NOW)
    assert [f.kind for f in flags] == ["container_before_image"]
    # Without image evidence of that id (a pulled image), there is nothing to compare.
    alone = with_evidence(with_evidence(report, "tweet.published", early), "tweet.image")
    assert "container_before_image" not in kinds(alone)
    # The honest order (image at 10, container at 11) is fine.
    assert kinds(report) == []


def test_a_report_from_the_future() -> None:
    ahead = make_report(created=(NOW + timedelta(minutes=6)).isoformat())
    # its evidence is older than it, so only the date is wrong
    assert kinds(ahead) == ["future_report"]
    drift = make_report(created=(NOW + timedelta(minutes=4)).isoformat())
    assert kinds(drift) == []


def test_a_report_dated_before_the_course_opened() -> None:
    report = make_report(created=NOW.isoformat())
    assert kinds(report, opens_at=NOW + timedelta(hours=1)) == ["before_opening"]
    # dated as the course opens: the report is not early (its evidence is, a flag of its own)
    assert kinds(report, opens_at=NOW) == ["evidence_before_opening"]
    assert kinds(report, opens_at=NOW - timedelta(days=1)) == []
    assert kinds(report, opens_at=None) == []


def test_sharing_keys_are_engine_containers_and_own_images_only() -> None:
    lab = Lab()
    keys = sharing_keys(make_report(host=lab))
    assert keys == {
        f"engine:{lab.engine_id}",
        *(f"container:{c}" for c in (lab.alpine_run, lab.ubuntu_run, lab.mydb,
                                     lab.tweet_container, lab.figlet_source)),
        *(f"image:{i}" for i in (lab.tweet_image, lab.ourfiglet, lab.hello_image)),
    }  # fmt: skip
    assert not any(FILES["tweet_app/Dockerfile"] in key or ALPINE in key for key in keys)
    assert not any(k.startswith("engine:") for k in sharing_keys(make_report(engine_id="unknown")))
    # failed checks have no evidence to share
    assert f"container:{lab.mydb}" not in sharing_keys(
        make_report(
            host=lab, failing=tuple(e.id for e in shipped_rubric().entries if "mydb" in e.id)
        )
    )


def test_every_kind_is_explained() -> None:
    assert set(KINDS) == {
        "shared_evidence", "same_body", "no_evidence", "bad_evidence", "evidence_after_report",
        "container_before_image", "future_report", "before_opening", "not_our_checks",
        "grading_error", "unknown_file", "odd_engine_id", "unknown_engine",
        "evidence_before_opening",
    }  # fmt: skip


def test_scoring_flags_have_kinds() -> None:
    rubric = shipped_rubric()
    edited = score_report(make_report(checks_digest="sha256:edited"), rubric)
    assert [f.kind for f in edited.flags] == ["not_our_checks"]
    assert "unknown checks digest 'sha256:edited'" in edited.flag_reason
    broken = score_report(make_report(grading_error="no engine"), rubric)
    assert [f.kind for f in broken.flags] == ["grading_error"]
    assert score_report(make_report(), rubric).flags == ()
    extra = CheckResult("bonus.x", "task9", "bonus", "passed", 1, 1)
    report = make_report()
    assert score_report(replace(report, results=(*report.results, extra)), rubric).flagged


# --- course_grade ---------------------------------------------------------------------------

T = datetime(2026, 12, 1, 12, tzinfo=UTC)


def stored(pk: int, score: int, hours: float, **flags: bool) -> StoredReport:
    return StoredReport(
        pk,
        score,
        T + timedelta(hours=hours),
        flags.get("open", False),
        flags.get("rejected", False),
    )


def test_course_grade_counts_only_what_can_be_trusted() -> None:
    reports = [
        stored(1, 10, 0),
        stored(2, 28, 1, open=True),  # a copy, waiting for the instructor
        stored(3, 20, 2),
        stored(4, 27, 3, rejected=True),
        stored(5, 25, 30),  # after the deadline
    ]
    deadline = T + timedelta(hours=24)
    assert course_grade(reports, closes_at=deadline) == 20
    assert course_grade(reports, GradePolicy(include_flagged=True), closes_at=deadline) == 28
    assert course_grade(reports, GradePolicy(include_late=True), closes_at=deadline) == 25
    assert course_grade(reports, GradePolicy(grade="latest"), closes_at=deadline) == 20
    latest_late = GradePolicy(grade="latest", include_late=True)
    assert course_grade(reports, latest_late, closes_at=deadline) == 25
    everything = GradePolicy(include_flagged=True, include_late=True)
    assert course_grade(reports, everything, closes_at=deadline) == 28  # never the rejected 27
    assert course_grade(reports) == 25  # no deadline: nothing is late
    assert course_grade([stored(1, 28, 0, open=True)]) is None
    assert course_grade([]) is None


def test_latest_breaks_a_tie_of_time_by_the_report_stored_last() -> None:
    assert course_grade([stored(7, 3, 0), stored(8, 9, 0)], GradePolicy(grade="latest")) == 9
