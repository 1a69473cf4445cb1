"""The hardened reader, decision by decision: each way a report is refused, with its reason, and
what an accepted one reads back as. Nothing it is given may raise anything but ReportRejected
(the server answers that with a 400; any other exception would be a 500).

The documents here are written by hand, one flaw each, so every refusal is reached on its own;
tests/unit/test_report_properties.py throws random ones at the reader.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import quoteattr

import defusedxml
import pytest

from submissions import dialect, reader
from submissions.dialect import CheckResult, Evidence, Report
from submissions.reader import Limits, ReportRejected, parse_created, read_report

REQUIRED = {
    "lab": "docker_beginners",
    "grader_version": "0.1.0",
    "checks_digest": "sha256:digest",
    "report_id": "r-1",
    "created": "2026-12-01T11:00:00+00:00",
    "engine_id": "ENGINE:ID",
}
PASSED = '<testcase name="a.one" classname="task1"/>'
FAILED = (
    '<testcase name="a.two" classname="task2" time="1.5">'
    '<failure type="failure" message="not found">hint: docker ps</failure></testcase>'
)


def document(
    cases: str = PASSED,
    properties: dict[str, str] | None = None,
    *,
    more: dict[str, str] | None = None,
    suite: str = 'name="docker-lab"',
    root: str = "",
) -> bytes:
    """A report as raw XML: the required properties (or ``properties``) plus ``more``."""
    chosen = {**(REQUIRED if properties is None else properties), **(more or {})}
    listed = "".join(
        f"<property name={quoteattr(name)} value={quoteattr(value)}/>"
        for name, value in chosen.items()
    )
    return (
        f"<testsuites{root}><testsuite {suite}><properties>{listed}</properties>"
        f"{cases}</testsuite></testsuites>"
    ).encode()


def newline_entity(data: bytes) -> bytes:
    """``&#10;`` written as it is (quoteattr escapes the ampersand)."""
    return data.replace(b"&amp;#10;", b"&#10;")


def refused(data: bytes | str, **limits: int) -> str:
    """The reason ``data`` is refused for (the test fails if it is accepted)."""
    with pytest.raises(ReportRejected) as caught:
        read_report(data, limits=Limits(**limits))
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


def case(name: str = "a.one", body: str = "", **attributes: str) -> str:
    attributes = {"name": name, "classname": "task1", **attributes}
    listed = " ".join(f"{key}={quoteattr(value)}" for key, value in attributes.items())
    return f"<testcase {listed}>{body}</testcase>"


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


# Each refusal, with its reason

LONG = "z" * 70
REFUSALS = [
    (b"", "the report is empty"),
    (b" \n\t ", "the report is empty"),
    (b"<!DOCTYPE testsuites><testsuites/>", "the report has a DOCTYPE; DTDs are not allowed"),
    (b"<junit/>", "the root element is <junit>, expected <testsuites>"),
    (f"<{LONG}/>".encode(), f"the root element is <{'z' * 40}>, expected <testsuites>"),
    (b"<testsuites/>", "the report has 0 <testsuite> elements, expected 1"),
    (
        b"<testsuites><testsuite/><testsuite/></testsuites>",
        "the report has 2 <testsuite> elements, expected 1",
    ),
    (document(suite='name="other"'), "the test suite is named 'other', expected 'docker-lab'"),
    (document(suite=""), "the test suite is named '', expected 'docker-lab'"),
    (
        document(suite=f'name="{LONG}"'),
        f"the test suite is named {'z' * 40!r}, expected 'docker-lab'",
    ),
    (
        document(root=' score="28"'),
        "<testsuites> states a 'score'; the server computes scores itself",
    ),
    (
        document(suite='name="docker-lab" max_score="28" grade="A"'),
        "<testsuite> states a 'grade'; the server computes scores itself",
    ),
    (
        document(case(points="2")),
        "<testcase> states a 'points'; the server computes scores itself",
    ),
    (
        b'<testsuites><testsuite name="docker-lab"/></testsuites>',
        "the test suite has no <properties>",
    ),
    (
        document().replace(b"</properties>", b"</properties><properties/>"),
        "the test suite has more than one <properties> element",
    ),
    (
        document().replace(b"</properties>", b'<property value="x"/></properties>'),
        "a <property> lacks its name or value attribute",
    ),
    (
        document().replace(b"</properties>", b'<property name="x"/></properties>'),
        "a <property> lacks its name or value attribute",
    ),
    (
        document().replace(b"</properties>", b'<property name="" value="x"/></properties>'),
        "a <property> lacks its name or value attribute",
    ),
    (
        document().replace(b"</properties>", b'<property name="lab" value="x"/></properties>'),
        "property 'lab' appears twice",
    ),
    (
        document(more={"report_id": "../../etc"}),
        ("report_id '../../etc' is not 1-100 letters, digits and . _ : -"),
    ),
    (
        document(more={"report_id": "r" * 101}),
        (f"report_id {'r' * 40!r} is not 1-100 letters, digits and . _ : -"),
    ),
    (
        document(more={"report_id": "r-1\n"}),
        ("report_id 'r-1\\n' is not 1-100 letters, digits and . _ : -"),
    ),
    (document(more={"created": "yesterday"}), "created 'yesterday' is not an ISO 8601 time"),
    (document(more={"created": "2" * 50}), f"created {'2' * 40!r} is not an ISO 8601 time"),
    (
        document(more={"created": "0001-01-01T00:00:00+01:00"}),
        "created '0001-01-01T00:00:00+01:00' is outside years 1-9999 in UTC",
    ),
    (
        document(more={"points.a.one": "two/2"}),
        "points.a.one = 'two/2' is not <earned>/<max> in whole points",
    ),
    (
        document(more={"points.a.one": "-1/2"}),
        "points.a.one = '-1/2' is not <earned>/<max> in whole points",
    ),
    (
        document(more={"points.a.one": "1" * 50}),
        f"points.a.one = {'1' * 40!r} is not <earned>/<max> in whole points",
    ),
    (
        document(more={"points.a.one": "3/2"}),
        "points.a.one = '3/2' is out of range (0 <= earned <= max <= 1000)",
    ),
    (
        document(more={"points.a.one": "1001/1001"}),
        "points.a.one = '1001/1001' is out of range (0 <= earned <= max <= 1000)",
    ),
    (
        document(more={"points.b.two": "1/1"}),
        "points are given for 'b.two', a check the report does not hold",
    ),
    (
        document(more={"points.b.two": "1/1", "points.c.three": "1/1"}),
        "points are given for 'b.two', a check the report does not hold",
    ),
    (
        document(case("<b>x y")),
        "testcase name '<b>x y' is not a check id (letters, digits, . _ -)",
    ),
    (document(case("")), "testcase name '' is not a check id (letters, digits, . _ -)"),
    (
        document(case("a" * 101)),
        (f"testcase name {'a' * 40!r} is not a check id (letters, digits, . _ -)"),
    ),
    (
        newline_entity(document(case("a.one&#10;"))),
        ("testcase name 'a.one\\n' is not a check id (letters, digits, . _ -)"),
    ),
    (document('<testcase name="a.one"/>'), "testcase 'a.one' has no classname (its task)"),
    (document(case(classname="")), "testcase 'a.one' has no classname (its task)"),
    (
        document(case(body="<failure/><error/>")),
        "testcase 'a.one' has more than one outcome element",
    ),
    (
        document(case(body="<failure/><skipped/>")),
        "testcase 'a.one' has more than one outcome element",
    ),
    (document(case(body="<skipped/>")), "testcase 'a.one' is skipped; the dialect has no skips"),
    (
        document(case(body="<failure/>"), more={"points.a.one": "1/1"}),
        "points.a.one claims 1 points for a check that did not pass",
    ),
    (
        document(case(body="<error/>"), more={"points.a.one": "2/3"}),
        "points.a.one claims 2 points for a check that did not pass",
    ),
    (document(case(time="soon")), "testcase 'a.one' has time 'soon'"),
    (document(PASSED + PASSED), "check 'a.one' appears twice"),
    (
        document(more={"dialect_version": "7"}),
        "dialect_version '7' is not one this server reads (1, 2)",
    ),
    (
        document(more={"dialect_version": "9" * 50}),
        f"dialect_version {'9' * 40!r} is not one this server reads (1, 2)",
    ),
]


@pytest.mark.parametrize(
    ("data", "reason"), REFUSALS, ids=[f"{i:02d}" for i in range(len(REFUSALS))]
)
def test_a_flawed_report_is_refused_with_its_reason(data: bytes, reason: str) -> None:
    assert refused(data) == reason


@pytest.mark.parametrize("name", dialect.REQUIRED_PROPERTIES)
@pytest.mark.parametrize("value", [None, "", "  "])
def test_each_required_property_must_be_there_and_not_blank(name: str, value: str | None) -> None:
    properties = {key: v for key, v in REQUIRED.items() if key != name}
    if value is not None:
        properties[name] = value
    assert refused(document(properties=properties)) == (
        f"the report lacks the required property {name!r}"
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<testsuites>", "the report is not well-formed XML (no element found: line 1, "),
        (b"not xml", "the report is not well-formed XML (syntax error: line 1, column 0)"),
        (b"<a>\xff</a>", "the report is not well-formed XML (not well-formed (invalid token)"),
        (
            b'<?xml version="1.0" encoding="klingon"?><testsuites/>',
            "the report cannot be decoded as XML (unknown encoding: klingon)",
        ),
        (
            b'<?xml version="1.0" encoding="shift_jis"?><testsuites/>',
            "the report cannot be decoded as XML (multi-byte encodings are not supported)",
        ),
    ],
)
def test_what_the_xml_parser_refuses_is_refused_with_its_words(data: bytes, reason: str) -> None:
    assert refused(data).startswith(reason)


@pytest.mark.parametrize(
    "text",
    [
        document().decode() + "\ud800",  # a lone surrogate: text no UTF-8 can hold
        document().decode().replace("task1", "task\udcff"),
    ],
)
def test_text_that_is_not_unicode_is_refused(text: str) -> None:
    assert refused(text) == "the report is not valid Unicode text"


def test_the_doctype_refusal_comes_before_any_entity_is_expanded() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><testsuites>&b;</testsuites>'
    )
    external = b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuites>&x;</testsuites>'
    assert (
        refused(laughs) == refused(external) == ("the report has a DOCTYPE; DTDs are not allowed")
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            defusedxml.EntitiesForbidden("lol", None, None, None, None, None),
            "the report declares entity 'lol'; entities are not allowed",
        ),
        (
            defusedxml.ExternalReferenceForbidden("ctx", "base", "sys", "pub"),
            "the report refers to an external resource; not allowed",
        ),
        (
            defusedxml.NotSupportedError("xinclude"),
            "the report uses a forbidden XML feature (xinclude)",
        ),
    ],
)
def test_every_defusedxml_refusal_is_a_rejection(
    monkeypatch: pytest.MonkeyPatch, error: Exception, reason: str
) -> None:
    """With DTDs forbidden these cannot happen today; if defusedxml ever raised them, they
    would still be a 400 with a reason, never a 500."""

    def parse(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(reader.SafeET, "fromstring", parse)
    assert refused(document()) == reason


def test_the_parser_is_told_to_forbid_dtds_entities_and_external_references(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}
    real = reader.SafeET.fromstring

    def parse(raw: bytes, **kwargs: object) -> object:
        seen.update(kwargs)
        return real(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader.SafeET, "fromstring", parse)
    read_report(document())
    assert seen == {"forbid_dtd": True, "forbid_entities": True, "forbid_external": True}


# Evidence: shape refusals the dialect tests do not reach


def evidence_document(name: str, value: str) -> bytes:
    return document(more={"dialect_version": "2", name: value})


def test_evidence_reads_in_its_numbered_order() -> None:
    report = read_report(
        document(
            more={
                "evidence.a.one.10": '{"kind":"file","id":"ten"}',
                "evidence.a.one.2": '{"kind":"image","id":"two","name":"x:1"}',
                "evidence.a.one.1": '{"kind":"container","id":"one","created":"c","image":"i"}',
            }
        )
    )
    assert report.results[0].evidence == (
        Evidence("container", "one", created="c", image="i"),
        Evidence("image", "two", name="x:1"),
        Evidence("file", "ten"),
    )


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        (
            "evidence.a.one.1",
            '{"id":"x"}',
            "evidence.a.one.1 has kind '', not one of container, image, event, file",
        ),
        (
            "evidence.a.one.1",
            '{"kind":"' + "k" * 30 + '","id":"x"}',
            f"evidence.a.one.1 has kind {'k' * 20!r}, not one of container, image, event, file",
        ),
        (
            "evidence.a.one.1",
            '{"kind":"file","id":""}',
            "evidence.a.one.1 has no id",
        ),
        (
            "evidence." + "?" * 70 + ".1",
            '{"kind":"file","id":"x"}',
            f"{('evidence.' + '?' * 70)[:60]!r} is not evidence.<check id>.<number>",
        ),
        (
            "evidence.a.one.1000",
            '{"kind":"file","id":"x"}',
            "'evidence.a.one.1000' is not evidence.<check id>.<number>",
        ),
        (
            "evidence.a.one.1&#10;",
            '{"kind":"file","id":"x"}',
            "'evidence.a.one.1\\n' is not evidence.<check id>.<number>",
        ),
        (
            "evidence.a.one.1",
            '"a string"',
            "evidence.a.one.1 is not a JSON object of strings",
        ),
    ],
)
def test_misshapen_evidence_is_refused_with_its_reason(name: str, value: str, reason: str) -> None:
    data = newline_entity(evidence_document(name, value))
    assert refused(data) == reason


def test_long_evidence_names_are_cut_in_the_reason() -> None:
    name = "evidence." + "b" * 60 + ".1"
    data = document(case("b" * 60), more={name: '{"kind":"file"}'})
    assert refused(data) == f"{name[:60]} has no id"
    bad_json = document(case("b" * 60), more={name: "{"})
    assert refused(bad_json) == f"{name[:60]} is not a JSON object of strings"
    bad_kind = document(case("b" * 60), more={name: '{"kind":"disk","id":"x"}'})
    assert refused(bad_kind).startswith(f"{name[:60]} has kind 'disk'")


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
