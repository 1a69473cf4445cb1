"""The writer: the report's JUnit dialect byte for byte, as the server and any JUnit tool see it.

The whole document is spelled out once, so a renamed property, a dropped attribute or a
changed default is a failing test here rather than a report the server refuses.
"""

from __future__ import annotations

from submissions.dialect import CheckResult, Evidence, Report
from submissions.reader import read_report
from submissions.writer import evidence_json, report_properties, to_junit_xml

REPORT = Report(
    lab="docker_beginners",
    grader_version="0.1.0",
    checks_digest="sha256:digest",
    report_id="r-1",
    created="2026-12-01T11:00:00+00:00",
    engine_id="ENGINE:ID",
    results=(
        CheckResult(
            "alpine.hostname",
            "task1",
            "alpine ran hostname",
            "passed",
            2,
            2,
            seconds=0.12345,
            evidence=(
                Evidence(
                    "container", "aaaa", created="2026-12-01T10:00:00+00:00", image="sha256:b"
                ),
                Evidence("file", "eeee", name="hello/index.js"),
            ),
        ),
        CheckResult(
            "mydb.running",
            "task1",
            "mydb is running",
            "failed",
            0,
            2,
            message="mydb exited with code 1",
            hint="docker container ls --all",
            seconds=1.5,
        ),
        CheckResult("hello.runs", "task4", "hello prints", "error", 0, 2),
    ),
    dockerid="ada",
    grading_error="the run timed out",
    extra_properties={"target": "ssh://lab1"},
    engine_name="laptop",
    engine_version="28.2.2",
)

Q = "&quot;"
WRITTEN = f"""\
<?xml version="1.0" encoding="utf-8"?>
<testsuites disabled="0" errors="1" failures="1" tests="3" time="1.623">
\t<testsuite disabled="0" errors="1" failures="1" name="docker-lab" skipped="0" tests="3" \
time="1.623" timestamp="2026-12-01T11:00:00+00:00">
\t\t<properties>
\t\t\t<property name="lab" value="docker_beginners"/>
\t\t\t<property name="dialect_version" value="2"/>
\t\t\t<property name="grader_version" value="0.1.0"/>
\t\t\t<property name="checks_digest" value="sha256:digest"/>
\t\t\t<property name="report_id" value="r-1"/>
\t\t\t<property name="created" value="2026-12-01T11:00:00+00:00"/>
\t\t\t<property name="engine_id" value="ENGINE:ID"/>
\t\t\t<property name="engine_name" value="laptop"/>
\t\t\t<property name="engine_version" value="28.2.2"/>
\t\t\t<property name="dockerid" value="ada"/>
\t\t\t<property name="grading_error" value="the run timed out"/>
\t\t\t<property name="target" value="ssh://lab1"/>
\t\t\t<property name="points.alpine.hostname" value="2/2"/>
\t\t\t<property name="points.mydb.running" value="0/2"/>
\t\t\t<property name="points.hello.runs" value="0/2"/>
\t\t\t<property name="evidence.alpine.hostname.1" value="{{{Q}kind{Q}:{Q}container{Q},\
{Q}id{Q}:{Q}aaaa{Q},{Q}created{Q}:{Q}2026-12-01T10:00:00+00:00{Q},{Q}image{Q}:{Q}sha256:b{Q}}}"/>
\t\t\t<property name="evidence.alpine.hostname.2" value="{{{Q}kind{Q}:{Q}file{Q},\
{Q}id{Q}:{Q}eeee{Q},{Q}name{Q}:{Q}hello/index.js{Q}}}"/>
\t\t</properties>
\t\t<testcase name="alpine.hostname" time="0.123000" classname="task1"/>
\t\t<testcase name="mydb.running" time="1.500000" classname="task1">
\t\t\t<failure type="failure" message="mydb exited with code 1">hint: docker container ls \
--all</failure>
\t\t</testcase>
\t\t<testcase name="hello.runs" classname="task4">
\t\t\t<error type="error" message="error"/>
\t\t</testcase>
\t</testsuite>
</testsuites>
"""


def test_the_report_is_written_in_the_dialect_to_the_byte() -> None:
    assert to_junit_xml(REPORT) == WRITTEN


def test_what_is_written_reads_back() -> None:
    back = read_report(WRITTEN)
    assert [(r.id, r.status, r.points, r.message, r.hint) for r in back.results] == [
        ("alpine.hostname", "passed", 2, "", ""),
        ("mydb.running", "failed", 0, "mydb exited with code 1", "docker container ls --all"),
        ("hello.runs", "error", 0, "error", ""),
    ]
    assert back.results[0].evidence == REPORT.results[0].evidence
    assert back.results[0].seconds == 0.123
    assert (back.grading_error, back.dockerid) == ("the run timed out", "ada")


def test_optional_properties_are_left_out_when_empty() -> None:
    bare = Report("lab", "v", "d", "r", "2026-12-01T11:00:00+00:00", "e", ())
    assert report_properties(bare) == {
        "lab": "lab",
        "dialect_version": "2",
        "grader_version": "v",
        "checks_digest": "d",
        "report_id": "r",
        "created": "2026-12-01T11:00:00+00:00",
        "engine_id": "e",
    }


def test_a_failure_without_a_message_says_failed_and_keeps_its_hint() -> None:
    failed = CheckResult("a.b", "t", "a.b", "failed", 0, 1, hint="try this")
    errored = CheckResult("a.c", "t", "a.c", "error", 0, 1, message="boom", hint="and this")
    text = to_junit_xml(Report("l", "v", "d", "r", "2026-12-01", "e", (failed, errored)))
    assert '<failure type="failure" message="failed">hint: try this</failure>' in text
    assert '<error type="error" message="boom">hint: and this</error>' in text


def test_a_message_newline_becomes_a_space_a_hint_keeps_it() -> None:
    """XML turns a newline in an attribute into a space; the hint is element text."""
    failed = CheckResult("a.b", "t", "a.b", "failed", 0, 1, message="one\ntwo", hint="a\nb")
    (back,) = read_report(
        to_junit_xml(Report("l", "v", "d", "r", "2026-12-01", "e", (failed,)))
    ).results
    assert (back.message, back.hint) == ("one two", "a\nb")


def test_evidence_json_leaves_out_empty_fields() -> None:
    assert evidence_json(Evidence("event", "x", created="t", name="create")) == (
        '{"kind":"event","id":"x","created":"t","name":"create"}'
    )
    assert evidence_json(Evidence("image", "sha256:1")) == '{"kind":"image","id":"sha256:1"}'
