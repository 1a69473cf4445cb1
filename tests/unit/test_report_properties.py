"""Properties of the report's dialect, on random reports (Hypothesis; bounded in conftest.py).

- Every well-formed report the writer writes reads back equal, as the reader reports it
  (titles are the check ids; times to the millisecond; a failure's message defaults).
- Any bytes at all, random or a written report damaged, are either refused with
  ReportRejected or read as a report that keeps the dialect's rules: never another exception.
"""

from __future__ import annotations

import operator
import string
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from submissions import dialect
from submissions.dialect import CheckResult, Evidence, Report
from submissions.reader import CHECK_ID, REPORT_ID, ReportRejected, parse_created, read_report
from submissions.writer import to_junit_xml

# Text a report can carry: printable ASCII, XML's own specials and a few beyond ASCII. No
# control characters: XML 1.0 has no place for most, and an attribute turns newlines and tabs
# into spaces (test_writer.py shows it).
CHARS = st.sampled_from(string.printable.strip() + " <>&\"'éü€☕🐳\u2028\u00a0\ufeff")
LINE = st.text(CHARS, max_size=30)
WORD = st.text(CHARS, min_size=1, max_size=20).filter(str.strip)
ALNUM = string.ascii_letters + string.digits


def identifiers(first: str, rest: str) -> st.SearchStrategy[str]:
    return st.builds(operator.add, st.sampled_from(first), st.text(rest, max_size=20))


CHECK_IDS = identifiers(ALNUM + "_", ALNUM + "_.-")
REPORT_IDS = identifiers(ALNUM, ALNUM + "_.:-")
EXTRA_NAMES = st.text(string.ascii_lowercase, min_size=1, max_size=8).map("x_".__add__)
SECONDS = st.integers(0, 10**6).map(lambda ms: ms / 1000)


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    return Evidence(
        draw(st.sampled_from(dialect.EVIDENCE_KINDS)),
        draw(WORD),
        created=draw(LINE),
        image=draw(LINE),
        name=draw(LINE),
    )


@st.composite
def result(draw: st.DrawFn, check_id: str) -> CheckResult:
    status = draw(st.sampled_from(["passed", "failed", "error"]))
    most = draw(st.integers(0, 1000))
    if status == "passed":
        return CheckResult(
            check_id,
            draw(WORD),
            check_id,
            "passed",
            draw(st.integers(0, most)),
            most,
            seconds=draw(SECONDS),
            evidence=tuple(draw(st.lists(evidence(), max_size=3))),
        )
    return CheckResult(
        check_id,
        draw(WORD),
        check_id,
        status,
        0,
        most,
        message=draw(LINE),
        hint=draw(LINE).strip(),
        seconds=draw(SECONDS),
    )


@st.composite
def reports(draw: st.DrawFn) -> Report:
    ids = draw(st.lists(CHECK_IDS, max_size=6, unique=True))
    created = draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
    return Report(
        lab=draw(WORD),
        grader_version=draw(WORD),
        checks_digest=draw(WORD),
        report_id=draw(REPORT_IDS),
        created=created.isoformat(),
        engine_id=draw(WORD),
        results=tuple(draw(result(check_id)) for check_id in ids),
        dockerid=draw(LINE),
        grading_error=draw(LINE),
        extra_properties=draw(st.dictionaries(EXTRA_NAMES, LINE, max_size=3)),
        dialect_version=draw(st.sampled_from(["1", "2"])),
        engine_name=draw(LINE),
        engine_version=draw(LINE),
    )


def as_read(report: Report) -> Report:
    """What the reader gives back for ``report``: the dialect carries no titles, and a failure
    or error without a message is written with its status as the message."""
    return replace(
        report,
        results=tuple(
            replace(r, title=r.id, message=r.message or ("" if r.passed else r.status))
            for r in report.results
        ),
    )


@given(reports())
@example(
    Report("l", "v", "d", "r", "2026-01-01T00:00:00+00:00", "e", (), grading_error="run failed")
)
def test_what_the_writer_writes_reads_back_equal(report: Report) -> None:
    assert read_report(to_junit_xml(report)) == as_read(report)


def assert_keeps_the_dialect(report: Report) -> None:
    """An accepted report holds only what the dialect allows, and reads again once written."""
    for name in ("lab", "grader_version", "checks_digest", "report_id", "created", "engine_id"):
        assert getattr(report, name).strip()
    assert REPORT_ID.match(report.report_id)
    parse_created(report.created)
    assert report.dialect_version in {"1", "2"}
    ids = [r.id for r in report.results]
    assert len(ids) == len(set(ids))
    for r in report.results:
        assert CHECK_ID.match(r.id) and r.task
        assert r.status in {"passed", "failed", "error"}
        assert 0 <= r.points <= r.max_points <= 1000
        assert r.passed or (r.points == 0 and not r.evidence)
        assert all(e.kind in dialect.EVIDENCE_KINDS and e.id for e in r.evidence)
        assert 0 <= r.seconds < 1e9
    again = read_report(to_junit_xml(report))
    assert [(r.id, r.status, r.points, r.max_points) for r in again.results] == [
        (r.id, r.status, r.points, r.max_points) for r in report.results
    ]


def read_or_refuse(data: bytes) -> None:
    try:
        report = read_report(data)
    except ReportRejected as exc:
        assert exc.reason and isinstance(exc.reason, str)
    else:
        assert_keeps_the_dialect(report)


@given(st.binary(max_size=2000))
def test_random_bytes_are_refused_or_read(data: bytes) -> None:
    read_or_refuse(data)


# Pieces that reach the reader's corners when spliced into a written report.
SPLICES = [
    b"<!DOCTYPE testsuites>",
    b'<?xml version="1.0" encoding="klingon"?>',
    b"&#10;",
    b"&#0;",
    b"&amp;",
    b"\xff",
    b"\x00",
    b'<testcase name="a.b" classname="t"/>',
    b'<testcase name="a.b" classname="t"><failure/><error/></testcase>',
    b"<skipped/>",
    b"<failure/>",
    b"<properties/>",
    b'<property name="points.a.b" value="1/1"/>',
    b'<property name="evidence.a.b.1" value="{}"/>',
    b'<property name="created" value="0001-01-01T00:00:00+01:00"/>',
    b'<property name="dialect_version" value="3"/>',
    b' score="1"',
    b' time="nan"',
    b"</testsuite>",
    b"<testsuite>",
    b"<![CDATA[x]]>",
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(to_junit_xml(draw(reports())).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 40)))
        action = draw(st.sampled_from(["delete", "duplicate", "splice", "byte"]))
        if action == "delete":
            del data[at:end]
        elif action == "duplicate":
            data[at:at] = data[at:end]
        elif action == "splice":
            data[at:at] = draw(st.sampled_from(SPLICES))
        else:
            data[at:at] = bytes([draw(st.integers(0, 255))])
    return bytes(data)


@given(damaged())
def test_a_damaged_report_is_refused_or_read(data: bytes) -> None:
    read_or_refuse(data)
