"""The hardened reader, what it accepts: what an accepted report reads back as, the limits
(at the limit accepted, one past it refused) and the report's time. Each way a report is
refused, with its reason, is tests/unit/test_reader_refusals.py.

The documents here are written by hand (tests/unit/reader_documents.py);
tests/unit/test_report_properties.py throws random ones at the reader.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from submissions.dialect import CheckResult, Report
from submissions.reader import Limits, ReportRejected, parse_created, read_report
from tests.unit.reader_documents import FAILED, PASSED, REQUIRED, case, document, refused

# What an accepted report reads back as


def test_a_minimal_report_reads_back_field_by_field() -> None:
    report = read_report(document(PASSED + FAILED, more={"points.a.one": "2/2"}))
    assert report == Report(
        lab="docker_beginners",
        grader_version="0.1.0",
        checks_digest="sha256:digest",
        report_id="r-1",
        created="2026-12-01T11:00:00+00:00",
        engine_id="ENGINE:ID",
        results=(
            CheckResult("a.one", "task1", "a.one", "passed", 2, 2),
            CheckResult(
                "a.two", "task2", "a.two", "failed", 0, 0, "not found", "docker ps", seconds=1.5
            ),
        ),
        dockerid="",
        grading_error="",
        extra_properties={},
        dialect_version="1",
        engine_name="",
        engine_version="",
    )


def test_optional_and_unknown_properties_are_read() -> None:
    report = read_report(
        document(
            more={
                "dockerid": "ada",
                "grading_error": "the run timed out after 180 s",
                "dialect_version": "2",
                "engine_name": "laptop",
                "engine_version": "28.2.2",
                "colour": "blue",
            }
        )
    )
    assert report.dockerid == "ada"
    assert report.grading_error == "the run timed out after 180 s"
    assert report.dialect_version == "2"
    assert (report.engine_name, report.engine_version) == ("laptop", "28.2.2")
    assert report.extra_properties == {"colour": "blue"}


def test_a_report_given_as_text_is_read_as_utf8() -> None:
    text = document(FAILED.replace("not found", "café ☕")).decode()
    (failed,) = read_report(text).results
    assert failed.message == "café ☕"


def test_an_error_outcome_is_an_error_and_a_hint_without_its_prefix_is_kept() -> None:
    body = '<error message="crashed">  no prefix here \n</error>'
    (result,) = read_report(document(case(body=body))).results
    assert (result.status, result.message, result.hint) == ("error", "crashed", "no prefix here")


def test_an_outcome_without_message_or_text_reads_empty() -> None:
    (result,) = read_report(document(case(body="<failure/>"))).results
    assert (result.status, result.message, result.hint) == ("failed", "", "")


def test_long_messages_and_hints_are_cut_not_refused() -> None:
    body = f'<failure message="{"m" * 30}">hint: {"h" * 30}</failure>'
    (result,) = read_report(document(case(body=body)), limits=Limits(max_text_chars=20)).results
    assert (result.message, result.hint) == ("m" * 20, "h" * 20)


def test_points_default_to_none_of_none_and_are_read_per_check() -> None:
    cases = case("a.one") + case("a.two")
    one, two = read_report(document(cases, more={"points.a.two": " 3/5 "})).results
    assert (one.points, one.max_points) == (0, 0)
    assert (two.points, two.max_points) == (3, 5)


@pytest.mark.parametrize(
    ("time", "seconds"),
    [
        (None, 0.0),
        ("", 0.0),
        ("0.25", 0.25),
        ("2", 2.0),
        ("-3", 0.0),
        ("999999999", 999999999.0),
        ("1000000000", 0.0),
        ("1e12", 0.0),
        ("inf", 0.0),
        ("nan", 0.0),
    ],
)
def test_a_testcase_time_is_seconds_never_negative_or_absurd(
    time: str | None, seconds: float
) -> None:
    attributes = {} if time is None else {"time": time}
    (result,) = read_report(document(case(**attributes))).results
    assert result.seconds == seconds


@pytest.mark.parametrize("points", ["0/0", "1000/1000", "0/1000"])
def test_points_at_the_limits_are_accepted(points: str) -> None:
    (result,) = read_report(document(more={"points.a.one": points})).results
    assert f"{result.points}/{result.max_points}" == points


def test_a_failed_check_may_state_it_earned_nothing() -> None:
    (result,) = read_report(document(case(body="<failure/>"), more={"points.a.one": "0/3"})).results
    assert (result.status, result.points, result.max_points) == ("failed", 0, 3)


def test_a_check_id_may_be_one_hundred_characters() -> None:
    name = "a" * 100
    (result,) = read_report(document(case(name))).results
    assert result.id == result.title == name


def test_the_testcase_count_attributes_are_never_read() -> None:
    forged = document(suite='name="docker-lab" tests="99" failures="0" errors="7"')
    assert len(read_report(forged).results) == 1


def test_a_score_like_attribute_below_the_testcase_is_not_a_stated_score() -> None:
    """Only the report, its suite and its testcases could state a grade to a JUnit tool."""
    body = '<failure message="no" type="points" points="3"/>'
    (result,) = read_report(document(case(body=body))).results
    assert result.status == "failed"


# The limits: at the limit accepted, one past it refused


def test_the_size_limit_counts_bytes() -> None:
    data = document()
    assert read_report(data, limits=Limits(max_bytes=len(data))).report_id == "r-1"
    assert refused(data, max_bytes=len(data) - 1) == (
        f"the report is over the size limit of {len(data) - 1} bytes"
    )
    text = document(case(body="<failure message='ééééé'/>")).decode()
    encoded = len(text.encode())
    assert encoded > len(text)
    assert "over the size limit" in refused(text, max_bytes=encoded - 1)


def test_the_element_limit() -> None:
    data = document(PASSED + FAILED)
    elements = 3 + len(REQUIRED) + 3  # testsuites, testsuite, properties; 2 testcases, failure
    assert read_report(data, limits=Limits(max_elements=elements)).report_id == "r-1"
    assert refused(data, max_elements=elements - 1) == (
        f"the report has {elements} XML elements, over the limit of {elements - 1}"
    )


def test_the_testcase_limit() -> None:
    data = document(PASSED + FAILED)
    assert len(read_report(data, limits=Limits(max_testcases=2)).results) == 2
    assert refused(data, max_testcases=1) == "the report has 2 testcases, over the limit of 1"


def test_the_property_limit() -> None:
    data = document()
    assert read_report(data, limits=Limits(max_properties=len(REQUIRED))).lab
    assert refused(data, max_properties=len(REQUIRED) - 1) == (
        f"the report has {len(REQUIRED)} properties, over the limit of {len(REQUIRED) - 1}"
    )


@pytest.mark.parametrize("where", ["name", "value"])
def test_the_property_length_limit(where: str) -> None:
    def with_long(length: int) -> bytes:
        name, value = ("x" * length, "v") if where == "name" else ("x", "v" * length)
        return document(more={name: value})

    limit = 45  # over every required value, and over the 40 characters a reason shows
    assert read_report(with_long(limit), limits=Limits(max_value_chars=limit)).lab
    reason = refused(with_long(limit + 1), max_value_chars=limit)
    shown = "x" * min(limit + 1, 40) if where == "name" else "x"
    assert reason == f"property {shown!r} is longer than {limit} characters"


def test_the_task_length_limit() -> None:
    limit = 45  # over every required value, and over the 40 characters a reason shows
    at_limit = document(case(classname="t" * limit))
    assert read_report(at_limit, limits=Limits(max_value_chars=limit)).results[0].task
    over = document(case(classname="t" * (limit + 1)))
    assert refused(over, max_value_chars=limit) == "testcase 'a.one' has no classname (its task)"


def test_the_points_limit() -> None:
    data = document(more={"points.a.one": "5/5"})
    assert read_report(data, limits=Limits(max_points=5)).results[0].points == 5
    assert refused(data, max_points=4) == (
        "points.a.one = '5/5' is out of range (0 <= earned <= max <= 4)"
    )


# The report's time


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-12-01T11:00:00+00:00", datetime(2026, 12, 1, 11, tzinfo=UTC)),
        ("2026-12-01T11:00:00Z", datetime(2026, 12, 1, 11, tzinfo=UTC)),
        ("2026-12-01T13:00:00+02:00", datetime(2026, 12, 1, 11, tzinfo=UTC)),
        (" 2026-12-01T11:00:00 ", datetime(2026, 12, 1, 11, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_created_is_read_as_aware_utc(value: str, moment: datetime) -> None:
    parsed = parse_created(value)
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo is UTC


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local time zone is UTC+5:30, so reading a time as local time would show."""
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
def test_a_time_without_a_zone_is_taken_as_utc_not_local() -> None:
    assert parse_created("2026-12-01T11:00:00") == datetime(2026, 12, 1, 11, tzinfo=UTC)
    east = timezone(timedelta(hours=5))
    assert parse_created("2026-12-01T16:00:00+05:00") == datetime(2026, 12, 1, 16, tzinfo=east)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_that_leaves_the_calendar_in_utc_is_refused(value: str) -> None:
    with pytest.raises(ReportRejected) as caught:
        parse_created(value)
    assert caught.value.reason == f"created {value!r} is outside years 1-9999 in UTC"
    padded = " " * 20 + value
    with pytest.raises(ReportRejected) as caught:
        parse_created(padded)
    assert caught.value.reason == f"created {padded[:40]!r} is outside years 1-9999 in UTC"


def test_a_read_report_carries_its_created_time_parsed() -> None:
    """The server stores and judges the report's time as the reader parsed it, once."""
    report = read_report(document(more={"created": "2026-12-01T13:00:00+02:00"}))
    assert report.created == "2026-12-01T13:00:00+02:00"  # the text, as written
    assert report.created_at == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert report.created_at.tzinfo is UTC


def test_the_years_a_report_may_be_dated_in_include_both_edges() -> None:
    assert parse_created("1970-01-01T00:00:00Z").year == 1970
    assert parse_created("9998-12-31T23:59:59Z").year == 9998
    for value in ("1969-12-31T23:59:59Z", "9999-01-01T00:00:00Z"):
        with pytest.raises(ReportRejected) as caught:
            parse_created(value)
        assert caught.value.reason == f"created {value!r} is outside years 1970-9998"
    long = "1969-12-31T23:59:59.000000+00:00" + " " * 20
    with pytest.raises(ReportRejected) as caught:
        parse_created(long)
    assert caught.value.reason == f"created {long[:40]!r} is outside years 1970-9998"
