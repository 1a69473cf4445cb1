"""The hardened reader: what the writer writes reads back; everything else has its reason."""

from __future__ import annotations

import re

import pytest

from devlab.server.reports import make_report, report_xml
from submissions import dialect
from submissions.reader import Limits, ReportRejected, read_report

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuites><testsuite name="docker-lab">&lol9;</testsuite></testsuites>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="docker-lab"><properties>
<property name="lab" value="&leak;"/></properties></testsuite></testsuites>"""


def rejected(data: bytes, **limits: int) -> str:
    with pytest.raises(ReportRejected) as caught:
        read_report(data, limits=Limits(**limits))
    return caught.value.reason


def test_what_the_writer_writes_reads_back() -> None:
    report = make_report(failing=("mydb.running",), dockerid="student1")
    back = read_report(report_xml(report))
    assert back.report_id == report.report_id
    assert back.lab == report.lab and back.engine_id == report.engine_id
    assert back.dockerid == "student1"
    assert [(r.id, r.task, r.status) for r in back.results] == [
        (r.id, r.task, r.status) for r in report.results
    ]
    failed = next(r for r in back.results if r.id == "mydb.running")
    assert failed.message == "not found"
    assert failed.hint == "docker container ls --all"
    assert (failed.points, failed.max_points) == (0, 2)


def test_an_error_check_reads_as_error() -> None:
    report = make_report()
    results = tuple(
        r
        if r.id != "hello.runs"
        else type(r)(**{**r.__dict__, "status": "error", "points": 0, "evidence": ()})
        for r in report.results
    )
    back = read_report(report_xml(make_report(results=results)))
    assert next(r for r in back.results if r.id == "hello.runs").status == "error"


def test_counts_come_from_the_testcases_not_the_attributes() -> None:
    xml = report_xml(failing=("alpine.hostname", "tweet.serves")).decode()
    forged = re.sub(r'(failures|errors)="\d+"', r'\1="0"', xml)
    forged = re.sub(r'tests="\d+"', 'tests="999"', forged)
    back = read_report(forged.encode())
    assert len(back.results) == 17
    assert sum(not r.passed for r in back.results) == 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        (b"<testsuites><testsuite", "not well-formed XML"),
        (b"", "empty"),
        (b"not xml at all", "not well-formed"),
        (b"<junit/>", "root element is <junit>"),
        (b"<testsuites/>", "0 <testsuite> elements"),
        (b'<testsuites><testsuite name="other"/></testsuites>', "named 'other'"),
        (b'<testsuites><testsuite name="docker-lab"/></testsuites>', "no <properties>"),
    ],
)
def test_bad_documents_are_refused_with_their_reason(data: bytes, reason: str) -> None:
    assert reason in rejected(data)


def test_the_secret_file_is_never_read() -> None:
    assert "root:" not in rejected(EXTERNAL_ENTITY)


@pytest.mark.parametrize("name", dialect.REQUIRED_PROPERTIES)
def test_each_required_property_is_required(name: str) -> None:
    xml = report_xml().decode()
    without = re.sub(rf'<property name="{name}" value="[^"]*"\s*/>', "", xml)
    assert without != xml
    assert rejected(without.encode()) == f"the report lacks the required property {name!r}"


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("-3/2", "is not <earned>/<max>"),
        ("3/2", "out of range"),
        ("5000/5000", "out of range"),
        ("2/two", "is not <earned>/<max>"),
        ("1.5/2", "is not <earned>/<max>"),
    ],
)
def test_negative_or_absurd_points_are_refused(claim: str, reason: str) -> None:
    xml = report_xml().decode()
    forged = xml.replace(
        'name="points.alpine.hostname" value="2/2"',
        f'name="points.alpine.hostname" value="{claim}"',
    )
    assert forged != xml
    assert reason in rejected(forged.encode())


def test_points_for_a_check_not_in_the_report_are_refused() -> None:
    xml = report_xml().decode()
    forged = xml.replace(
        "<properties>", '<properties><property name="points.bonus.check" value="9/9"/>'
    )
    assert "bonus.check" in rejected(forged.encode())


def test_a_check_twice_is_refused() -> None:
    xml = report_xml().decode()
    forged = xml.replace('<testcase name="mydb.image"', '<testcase name="mydb.running"')
    assert "'mydb.running' appears twice" in rejected(forged.encode())


def test_a_skipped_check_is_outside_the_dialect() -> None:
    xml = report_xml().decode()
    forged = xml.replace(
        '<testcase name="mydb.image" classname="task1"/>',
        '<testcase name="mydb.image" classname="task1"><skipped/></testcase>',
    )
    assert forged != xml
    assert "skipped" in rejected(forged.encode())


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"report_id": "../../etc"}, "report_id"),
        ({"created": "yesterday"}, "not an ISO 8601 time"),
    ],
)
def test_bad_property_values(overrides: dict[str, str], reason: str) -> None:
    assert reason in rejected(report_xml(**overrides))


def test_limits() -> None:
    data = report_xml()
    assert "over the size limit of 100 bytes" in rejected(data, max_bytes=100)
    assert "17 testcases, over the limit of 10" in rejected(data, max_testcases=10)
    assert "over the limit of 20" in rejected(data, max_elements=20)
    assert "properties, over the limit of 5" in rejected(data, max_properties=5)
    long_lab = report_xml(lab="x" * 2000)
    assert "longer than 1000 characters" in rejected(long_lab)


def test_points_claimed_for_a_failed_check_are_refused() -> None:
    xml = report_xml(failing=("tweet.dockerfile",)).decode()
    forged = xml.replace(
        'name="points.tweet.dockerfile" value="0/3"', 'name="points.tweet.dockerfile" value="3/3"'
    )
    assert forged != xml
    assert "claims 3 points for a check that did not pass" in rejected(forged.encode())


@pytest.mark.parametrize("element", ["<testsuites ", "<testsuite ", '<testcase name="mydb.image" '])
def test_a_stated_score_attribute_is_refused(element: str) -> None:
    xml = report_xml().decode()
    forged = xml.replace(element, element + 'score="28" ', 1)
    assert forged != xml
    assert "states a 'score'; the server computes scores itself" in rejected(forged.encode())
