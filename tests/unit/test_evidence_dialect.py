"""Evidence in the report's dialect (version 2): written, read back, and refused when misshapen.

Whether evidence makes sense (ids of 64 hex digits, times before the report) is the
server's to judge; the reader checks only its shape.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from submissions import dialect
from submissions.dialect import CheckResult, Evidence, Report
from submissions.reader import ReportRejected, read_report
from submissions.writer import evidence_json, to_junit_xml

CONTAINER = Evidence(
    "container", "a" * 64, created="2026-12-01T10:00:00.123456+00:00", image="sha256:" + "b" * 64
)
IMAGE = Evidence("image", "sha256:" + "c" * 64, created="2026-12-01T09:00:00+00:00", name="x:1")
EVENT = Evidence("event", "d" * 64, created="2026-12-01T09:30:00+00:00", name="create")
FILE = Evidence("file", "e" * 64, name="hello/index.js")


def report(*results: CheckResult, **overrides: Any) -> Report:
    base = Report(
        lab="docker_beginners",
        grader_version="0.1.0",
        checks_digest="sha256:digest",
        report_id="r-1",
        created="2026-12-01T11:00:00+00:00",
        engine_id="ENGINE:ID",
        results=results,
        engine_name="laptop",
        engine_version="28.2.2",
    )
    return replace(base, **overrides)


def passed(check_id: str, *evidence: Evidence) -> CheckResult:
    return CheckResult(check_id, "task1", check_id, "passed", 1, 1, evidence=evidence)


def failed(check_id: str) -> CheckResult:
    return CheckResult(check_id, "task1", check_id, "failed", 0, 1, message="no", hint="do")


def xml_with(properties: dict[str, str], *results: CheckResult) -> str:
    """A written report with ``properties`` added to (or replacing) its suite properties."""
    text = to_junit_xml(report(*results))
    added = "".join(f'<property name="{n}" value="{v}" />' for n, v in properties.items())
    return text.replace("</properties>", added + "</properties>", 1)


def test_evidence_and_the_engine_read_back_as_written() -> None:
    written = report(passed("a.one", CONTAINER, IMAGE), passed("a.two", EVENT, FILE), failed("a.x"))
    back = read_report(to_junit_xml(written))
    assert back.dialect_version == dialect.DIALECT_VERSION == "2"
    assert (back.engine_name, back.engine_version) == ("laptop", "28.2.2")
    assert {r.id: r.evidence for r in back.results} == {
        "a.one": (CONTAINER, IMAGE),
        "a.two": (EVENT, FILE),
        "a.x": (),
    }
    assert back.extra_properties == {}


def test_evidence_is_numbered_per_check_as_compact_json() -> None:
    text = to_junit_xml(report(passed("a.one", CONTAINER, IMAGE)))
    assert 'name="evidence.a.one.1"' in text and 'name="evidence.a.one.2"' in text
    assert evidence_json(FILE) == '{"kind":"file","id":"' + "e" * 64 + '","name":"hello/index.js"}'


def test_a_report_of_the_first_dialect_reads_with_no_evidence() -> None:
    text = to_junit_xml(report(passed("a.one")))
    old = re.sub(r'<property name="(dialect_version|engine_name|engine_version)"[^>]*/>', "", text)
    back = read_report(old)
    assert back.dialect_version == "1"
    assert back.results[0].evidence == () and back.engine_name == ""


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"evidence.a.one.1": "not json"}, "evidence.a.one.1 is not a JSON object of strings"),
        ({"evidence.a.one.1": "[1]"}, "is not a JSON object of strings"),
        ({"evidence.a.one.1": '{"kind":"file","id":3}'}, "is not a JSON object of strings"),
        ({"evidence.a.one.1": '{"kind":"disk","id":"x"}'}, "has kind 'disk', not one of"),
        ({"evidence.a.one.1": '{"kind":"file"}'}, "evidence.a.one.1 has no id"),
        ({"evidence.a.nine.1": '{"kind":"file","id":"x"}'}, "for 'a.nine', a check the report"),
        ({"evidence.a.x.1": '{"kind":"file","id":"x"}'}, "for 'a.x', a check that did not pass"),
        ({"evidence.a.one": '{"kind":"file","id":"x"}'}, "is not evidence.<check id>.<number>"),
        ({"evidence.a.one.0": '{"kind":"file","id":"x"}'}, "is not evidence.<check id>.<number>"),
    ],
)
def test_misshapen_evidence_is_refused_with_its_reason(
    properties: dict[str, str], reason: str
) -> None:
    escaped = {name: value.replace('"', "&quot;") for name, value in properties.items()}
    with pytest.raises(ReportRejected) as caught:
        read_report(xml_with(escaped, passed("a.one"), failed("a.x")))
    assert reason in caught.value.reason


def test_an_unknown_dialect_version_is_refused() -> None:
    text = to_junit_xml(report(passed("a.one"))).replace(
        'name="dialect_version" value="2"', 'name="dialect_version" value="7"'
    )
    with pytest.raises(ReportRejected, match=r"dialect_version '7' is not one this server reads"):
        read_report(text)


def test_unknown_evidence_fields_are_ignored_for_later_dialects() -> None:
    value = '{"kind":"file","id":"x","colour":"red"}'.replace('"', "&quot;")
    back = read_report(xml_with({"evidence.a.one.1": value}, passed("a.one")))
    assert back.results[0].evidence == (Evidence("file", "x"),)
