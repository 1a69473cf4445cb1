"""Hand-written reports for the reader's tests: a valid document, and one flaw at a time.

Shared by tests/unit/test_reader.py (what an accepted report reads back as) and
tests/unit/test_reader_refusals.py (each refusal, with its reason).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import pytest

from submissions.reader import Limits, ReportRejected, read_report

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
