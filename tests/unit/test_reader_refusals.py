"""The hardened reader, decision by decision: each way a report is refused, with its reason.
Nothing it is given may raise anything but ReportRejected (the server answers that with a
400; any other exception would be a 500).

The documents here are written by hand (tests/unit/reader_documents.py), one flaw each, so
every refusal is reached on its own; tests/unit/test_report_properties.py throws random ones
at the reader. What an accepted report reads back as is tests/unit/test_reader.py.
"""

from __future__ import annotations

import defusedxml
import pytest

from submissions import dialect, reader
from submissions.dialect import Evidence
from submissions.reader import read_report
from tests.unit.reader_documents import PASSED, REQUIRED, case, document, newline_entity, refused

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
