"""The stable ``grade --json`` document other tools read.

Apart from :mod:`grader.report.render`, so that ``grade --json`` never imports rich.
"""

from __future__ import annotations

import json

from grader.targets.engine_choice import PROP_ENGINE_CONTEXT, PROP_ENGINE_ENDPOINT
from submissions.dialect import Report
from submissions.writer import evidence_json


def as_json(report: Report) -> str:
    """The stable ``--json`` document other tools read."""
    return json.dumps(
        {
            "lab": report.lab,
            "score": report.score,
            "max_score": report.max_score,
            "checks": [
                {
                    "id": r.id,
                    "task": r.task,
                    "title": r.title,
                    "status": r.status,
                    "points": r.points,
                    "max_points": r.max_points,
                    "message": r.message,
                    "hint": r.hint,
                    "evidence": [json.loads(evidence_json(e)) for e in r.evidence],
                    "waits_on": r.waits_on,
                }
                for r in report.results
            ],
            "engine": {
                "id": report.engine_id,
                "name": report.engine_name,
                "version": report.engine_version,
                "context": report.extra_properties.get(PROP_ENGINE_CONTEXT, ""),
                "endpoint": report.extra_properties.get(PROP_ENGINE_ENDPOINT, ""),
            },
        },
        indent=2,
    )
