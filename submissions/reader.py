"""Reads an untrusted JUnit report back into a :class:`~submissions.dialect.Report`.

The XML is parsed by defusedxml with no DOCTYPE at all (so no entities, no
external references, no billion laughs), under size and count limits, and
then checked against the dialect. Every rejection raises
:class:`ReportRejected` whose ``reason`` tells the sender what is wrong.
Test and failure counts are recounted from the testcases; the ``tests=`` /
``failures=`` attributes are never read. The ``points.<check>`` properties are
checked for sense (whole numbers, earned <= max, nothing earned by a failed
check) but never scored from; a ``score``-like attribute is refused. Evidence
(``evidence.<check>.<n>``, dialect version 2) is read into each check's result:
its shape is checked here (a JSON object of strings, a known kind, an id, a
passed check of this report); whether its ids and times make sense is the
server's to judge, and it flags rather than refuses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import defusedxml
import defusedxml.ElementTree as SafeET

from submissions import dialect
from submissions.dialect import CheckResult, Evidence, Report, Status


class ReportRejected(ValueError):
    """The report cannot be accepted; ``reason`` says why, in one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Bounds on what one report may hold; a report over any of them is rejected."""

    max_bytes: int = 1024 * 1024
    max_elements: int = 5_000
    max_testcases: int = 200
    max_properties: int = 500
    max_value_chars: int = 1_000  # a property value, an id, a task
    max_text_chars: int = 8_000  # a message or a hint (longer ones are cut, not refused)
    max_points: int = 1_000


DEFAULT_LIMITS = Limits()

CHECK_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}\Z")
REPORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}\Z")
#: The dialect versions this reader understands.
READABLE_VERSIONS = frozenset({dialect.FIRST_DIALECT_VERSION, dialect.DIALECT_VERSION})
EVIDENCE_NUMBER = re.compile(r"^[1-9][0-9]{0,2}\Z")
#: Attributes by which a report would state its own score: refused, never read.
STATED_SCORE = frozenset({"score", "max_score", "points", "max_points", "grade"})
POINTS = re.compile(r"^(\d{1,9})/(\d{1,9})$")


def read_report(data: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> Report:
    """Parse and validate ``data``; raise :class:`ReportRejected` with the reason if unfit."""
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:  # a lone surrogate: no XML parser can take it
        raise ReportRejected("the report is not valid Unicode text") from None
    if len(raw) > limits.max_bytes:
        raise ReportRejected(f"the report is over the size limit of {limits.max_bytes} bytes")
    if not raw.strip():
        raise ReportRejected("the report is empty")
    root = _parse(raw)
    elements = sum(1 for _ in root.iter())
    if elements > limits.max_elements:
        raise ReportRejected(
            f"the report has {elements} XML elements, over the limit of {limits.max_elements}"
        )
    return _read_tree(root, limits)


def _parse(raw: bytes) -> ET.Element:
    try:
        root: ET.Element = SafeET.fromstring(
            raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise ReportRejected("the report has a DOCTYPE; DTDs are not allowed") from None
    except defusedxml.EntitiesForbidden as exc:
        raise ReportRejected(
            f"the report declares entity {exc.name!r}; entities are not allowed"
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise ReportRejected("the report refers to an external resource; not allowed") from None
    except defusedxml.DefusedXmlException as exc:
        raise ReportRejected(f"the report uses a forbidden XML feature ({exc})") from None
    except ET.ParseError as exc:
        raise ReportRejected(f"the report is not well-formed XML ({exc})") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding declared
        raise ReportRejected(f"the report cannot be decoded as XML ({exc})") from None
    return root


def _read_tree(root: ET.Element, limits: Limits) -> Report:
    if root.tag != "testsuites":
        raise ReportRejected(f"the root element is <{root.tag[:40]}>, expected <testsuites>")
    suites = [child for child in root if child.tag == "testsuite"]
    if len(suites) != 1:
        raise ReportRejected(f"the report has {len(suites)} <testsuite> elements, expected 1")
    suite = suites[0]
    for element in (root, suite, *suite.iter("testcase")):
        stated = sorted(STATED_SCORE & set(element.attrib))
        if stated:
            raise ReportRejected(
                f"<{element.tag}> states a {stated[0]!r}; the server computes scores itself"
            )
    if suite.get("name") != dialect.SUITE_NAME:
        raise ReportRejected(
            f"the test suite is named {(suite.get('name') or '')[:40]!r},"
            f" expected {dialect.SUITE_NAME!r}"
        )
    properties = _properties(suite, limits)
    for name in dialect.REQUIRED_PROPERTIES:
        if not properties.get(name, "").strip():
            raise ReportRejected(f"the report lacks the required property {name!r}")
    report_id = properties[dialect.PROP_REPORT_ID]
    if not REPORT_ID.match(report_id):
        raise ReportRejected(
            f"report_id {report_id[:40]!r} is not 1-100 letters, digits and . _ : -"
        )
    created = properties[dialect.PROP_CREATED]
    created_at = parse_created(created)  # parsed once: the server uses it from here on

    cases = [child for child in suite if child.tag == "testcase"]
    if len(cases) > limits.max_testcases:
        raise ReportRejected(
            f"the report has {len(cases)} testcases, over the limit of {limits.max_testcases}"
        )
    claimed = _claimed_points(properties, limits)
    results: list[CheckResult] = []
    seen: set[str] = set()
    for case in cases:
        result = _testcase(case, claimed, limits)
        if result.id in seen:
            raise ReportRejected(f"check {result.id!r} appears twice")
        seen.add(result.id)
        results.append(result)
    stray = sorted(set(claimed) - seen)
    if stray:
        raise ReportRejected(f"points are given for {stray[0]!r}, a check the report does not hold")
    version = properties.get(dialect.PROP_DIALECT_VERSION, dialect.FIRST_DIALECT_VERSION)
    if version not in READABLE_VERSIONS:
        raise ReportRejected(
            f"dialect_version {version[:40]!r} is not one this server reads "
            f"({', '.join(sorted(READABLE_VERSIONS))})"
        )
    results = _with_evidence(results, _evidence(properties))

    known = set(dialect.REQUIRED_PROPERTIES) | {
        dialect.PROP_DOCKERID,
        dialect.PROP_GRADING_ERROR,
        dialect.PROP_DIALECT_VERSION,
        dialect.PROP_ENGINE_NAME,
        dialect.PROP_ENGINE_VERSION,
    }
    extra = {
        name: value
        for name, value in properties.items()
        if name not in known
        and not name.startswith((dialect.POINTS_PREFIX, dialect.EVIDENCE_PREFIX))
    }
    return Report(
        lab=properties[dialect.PROP_LAB],
        grader_version=properties[dialect.PROP_GRADER_VERSION],
        checks_digest=properties[dialect.PROP_CHECKS_DIGEST],
        report_id=report_id,
        created=created,
        engine_id=properties[dialect.PROP_ENGINE_ID],
        results=tuple(results),
        dockerid=properties.get(dialect.PROP_DOCKERID, ""),
        grading_error=properties.get(dialect.PROP_GRADING_ERROR, ""),
        extra_properties=extra,
        dialect_version=version,
        engine_name=properties.get(dialect.PROP_ENGINE_NAME, ""),
        engine_version=properties.get(dialect.PROP_ENGINE_VERSION, ""),
        created_at=created_at,
    )


def _evidence(properties: dict[str, str]) -> dict[str, list[Evidence]]:
    """Check id → its evidence in the order numbered, from ``evidence.<check>.<n>``."""
    numbered: dict[str, list[tuple[int, Evidence]]] = {}
    for name, value in properties.items():
        if not name.startswith(dialect.EVIDENCE_PREFIX):
            continue
        check_id, _, number = name[len(dialect.EVIDENCE_PREFIX) :].rpartition(".")
        if not CHECK_ID.match(check_id) or not EVIDENCE_NUMBER.match(number):
            raise ReportRejected(f"{name[:60]!r} is not evidence.<check id>.<number>")
        numbered.setdefault(check_id, []).append((int(number), _one_evidence(name, value)))
    return {check: [e for _, e in sorted(items)] for check, items in numbered.items()}


def _one_evidence(name: str, value: str) -> Evidence:
    try:
        fields = json.loads(value)
    except ValueError:
        fields = None
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ReportRejected(f"{name[:60]} is not a JSON object of strings")
    kind = fields.get("kind", "")
    if kind not in dialect.EVIDENCE_KINDS:
        raise ReportRejected(
            f"{name[:60]} has kind {kind[:20]!r}, not one of {', '.join(dialect.EVIDENCE_KINDS)}"
        )
    if not fields.get("id"):
        raise ReportRejected(f"{name[:60]} has no id")
    return Evidence(kind, **{key: fields.get(key, "") for key in dialect.EVIDENCE_FIELDS})


def _with_evidence(
    results: list[CheckResult], evidence: dict[str, list[Evidence]]
) -> list[CheckResult]:
    """Each result with its evidence; evidence for a check that did not pass is refused."""
    by_id = {result.id: result for result in results}
    for check_id in evidence:
        result = by_id.get(check_id)
        if result is None:
            raise ReportRejected(f"evidence is given for {check_id!r}, a check the report lacks")
        if not result.passed:
            raise ReportRejected(f"evidence is given for {check_id!r}, a check that did not pass")
    return [replace(r, evidence=tuple(evidence.get(r.id, ()))) for r in results]


#: The years a report's ``created`` may name (Docker did not exist before; 9999 overflows).
CREATED_YEARS = (1970, 9998)


def parse_created(value: str) -> datetime:
    """The report's ``created`` time as aware UTC; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ReportRejected(f"created {value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise ReportRejected(f"created {value[:40]!r} is outside years 1-9999 in UTC") from None
    # A time at the calendar's edge overflows the server's arithmetic (created + slack).
    if not CREATED_YEARS[0] <= moment.year <= CREATED_YEARS[1]:
        first, last = CREATED_YEARS
        raise ReportRejected(f"created {value[:40]!r} is outside years {first}-{last}")
    return moment


def _properties(suite: ET.Element, limits: Limits) -> dict[str, str]:
    blocks = [child for child in suite if child.tag == "properties"]
    if len(blocks) > 1:
        raise ReportRejected("the test suite has more than one <properties> element")
    if not blocks:
        raise ReportRejected("the test suite has no <properties>")
    elements = [child for child in blocks[0] if child.tag == "property"]
    if len(elements) > limits.max_properties:
        raise ReportRejected(
            f"the report has {len(elements)} properties, over the limit of {limits.max_properties}"
        )
    properties: dict[str, str] = {}
    for element in elements:
        name, value = element.get("name"), element.get("value")
        if not name or value is None:
            raise ReportRejected("a <property> lacks its name or value attribute")
        if len(name) > limits.max_value_chars or len(value) > limits.max_value_chars:
            raise ReportRejected(
                f"property {name[:40]!r} is longer than {limits.max_value_chars} characters"
            )
        if name in properties:
            raise ReportRejected(f"property {name!r} appears twice")
        properties[name] = value
    return properties


def _claimed_points(properties: dict[str, str], limits: Limits) -> dict[str, tuple[int, int]]:
    claimed: dict[str, tuple[int, int]] = {}
    for name, value in properties.items():
        if not name.startswith(dialect.POINTS_PREFIX):
            continue
        check_id = name[len(dialect.POINTS_PREFIX) :]
        match = POINTS.match(value.strip())
        if not match:
            raise ReportRejected(f"{name} = {value[:40]!r} is not <earned>/<max> in whole points")
        earned, most = int(match[1]), int(match[2])
        if most > limits.max_points or earned > most:
            raise ReportRejected(
                f"{name} = {value!r} is out of range (0 <= earned <= max <= {limits.max_points})"
            )
        claimed[check_id] = (earned, most)
    return claimed


def _testcase(case: ET.Element, claimed: dict[str, tuple[int, int]], limits: Limits) -> CheckResult:
    check_id = case.get("name") or ""
    if not CHECK_ID.match(check_id):
        raise ReportRejected(
            f"testcase name {check_id[:40]!r} is not a check id (letters, digits, . _ -)"
        )
    task = case.get("classname") or ""
    if not task or len(task) > limits.max_value_chars:
        raise ReportRejected(f"testcase {check_id!r} has no classname (its task)")
    outcomes = [child for child in case if child.tag in ("failure", "error", "skipped")]
    if len(outcomes) > 1:
        raise ReportRejected(f"testcase {check_id!r} has more than one outcome element")
    status: Status = "passed"
    message = hint = ""
    if outcomes:
        outcome = outcomes[0]
        if outcome.tag == "skipped":
            raise ReportRejected(f"testcase {check_id!r} is skipped; the dialect has no skips")
        status = "failed" if outcome.tag == "failure" else "error"
        message = (outcome.get("message") or "")[: limits.max_text_chars]
        text = (outcome.text or "").strip()
        if text.startswith(dialect.HINT_PREFIX):
            text = text[len(dialect.HINT_PREFIX) :]
        hint = text[: limits.max_text_chars]
    points, max_points = claimed.get(check_id, (0, 0))
    if status != "passed" and points > 0:
        raise ReportRejected(
            f"points.{check_id} claims {points} points for a check that did not pass"
        )
    try:
        seconds = max(0.0, float(case.get("time") or 0))
    except ValueError:
        raise ReportRejected(f"testcase {check_id!r} has time {case.get('time')!r}") from None
    return CheckResult(
        id=check_id,
        task=task,
        title=check_id,
        status=status,
        points=points,
        max_points=max_points,
        message=message,
        hint=hint,
        seconds=seconds if seconds < 1e9 else 0.0,
    )
