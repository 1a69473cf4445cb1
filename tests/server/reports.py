"""Valid reports for the tests, written by the grader's own writer.

Their checks are those of the server's shipped rubric (the JSON document it scores from).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from submissions.dialect import CheckResult, Report
from submissions.rubric import shipped_rubric
from submissions.writer import to_junit_xml

VERSION = "0.1.0"
DIGEST = "sha256:test-digest"


def make_report(*, failing: tuple[str, ...] = (), **overrides: Any) -> Report:
    """A report of every rubric check, passed unless named in ``failing``."""
    rubric = shipped_rubric()
    results = tuple(
        CheckResult(
            id=entry.id,
            task=entry.task,
            title=entry.title,
            status="failed" if entry.id in failing else "passed",
            points=0 if entry.id in failing else entry.points,
            max_points=entry.points,
            message="not found" if entry.id in failing else "",
            hint="docker container ls --all" if entry.id in failing else "",
        )
        for entry in rubric.entries
    )
    report = Report(
        lab=rubric.lab,
        grader_version=VERSION,
        checks_digest=DIGEST,
        report_id=str(uuid.uuid4()),
        created="2026-11-29T01:00:00+00:00",
        engine_id="ABCD:EFGH",
        results=results,
    )
    return replace(report, **overrides)


def report_xml(report: Report | None = None, **overrides: Any) -> bytes:
    return to_junit_xml(report or make_report(**overrides)).encode("utf-8")
