"""Writes a :class:`~submissions.dialect.Report` as JUnit XML with the junit-xml package."""

from __future__ import annotations

import json

from submissions import dialect
from submissions.dialect import Evidence, Report


def report_properties(report: Report) -> dict[str, str]:
    """The suite properties of a report, points and evidence included, in a stable order."""
    properties = {
        dialect.PROP_LAB: report.lab,
        dialect.PROP_DIALECT_VERSION: report.dialect_version,
        dialect.PROP_GRADER_VERSION: report.grader_version,
        dialect.PROP_CHECKS_DIGEST: report.checks_digest,
        dialect.PROP_REPORT_ID: report.report_id,
        dialect.PROP_CREATED: report.created,
        dialect.PROP_ENGINE_ID: report.engine_id,
    }
    optional = {
        dialect.PROP_ENGINE_NAME: report.engine_name,
        dialect.PROP_ENGINE_VERSION: report.engine_version,
        dialect.PROP_DOCKERID: report.dockerid,
        dialect.PROP_GRADING_ERROR: report.grading_error,
    }
    properties.update({name: value for name, value in optional.items() if value})
    properties.update(report.extra_properties)
    for result in report.results:
        properties[dialect.POINTS_PREFIX + result.id] = f"{result.points}/{result.max_points}"
    for result in report.results:
        for number, evidence in enumerate(result.evidence, start=1):
            properties[f"{dialect.EVIDENCE_PREFIX}{result.id}.{number}"] = evidence_json(evidence)
    return properties


def evidence_json(evidence: Evidence) -> str:
    """One piece of evidence as the compact JSON object the dialect carries."""
    fields = {"kind": evidence.kind}
    fields.update(
        {name: value for name in dialect.EVIDENCE_FIELDS if (value := getattr(evidence, name))}
    )
    return json.dumps(fields, separators=(",", ":"))


def to_junit_xml(report: Report) -> str:
    """Render the report; failures and errors carry the message and the hint."""
    # imported here: junit-xml pulls in xml.etree, which grade --json never needs
    from junit_xml import TestCase, TestSuite, to_xml_report_string

    cases = []
    for result in report.results:
        case = TestCase(
            name=result.id,
            classname=result.task,
            elapsed_sec=round(result.seconds, 3),
        )
        hint = dialect.HINT_PREFIX + result.hint if result.hint else ""
        if result.status == "failed":
            case.add_failure_info(message=result.message or "failed", output=hint or None)
        elif result.status == "error":
            case.add_error_info(message=result.message or "error", output=hint or None)
        cases.append(case)
    suite = TestSuite(
        dialect.SUITE_NAME,
        cases,
        timestamp=report.created,
        properties=report_properties(report),
    )
    return to_xml_report_string([suite], encoding="utf-8")
