"""Bounded storage (issue 11, findings 2 and 11), on a SQLite file and on PostgreSQL.

Over-long values are refused with 400 (PostgreSQL's ``VARCHAR`` would raise a 500), the
size limit defaults to 128 KiB, and each student's raw reports are bounded.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from webhook.storage.models import Submission

from .conftest import Classroom
from .reports import make_report, report_xml
from .test_api import count, post

LONG = {
    "lab": 101,
    "grader_version": 101,
    "engine_id": 201,
    "checks_digest": 201,
}


@pytest.mark.parametrize(("field", "length"), sorted(LONG.items()))
def test_a_value_longer_than_its_column_is_a_400_and_nothing_is_stored(
    client: FlaskClient, classroom: Classroom, field: str, length: int
) -> None:
    body = report_xml(**{field: "x" * length})
    response = post(client, body, classroom.bearer("ann"))
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    assert response.json["error"] == "bad_report"
    assert field in response.json["reason"] and str(length - 1) in response.json["reason"]
    assert count(classroom.url, Submission) == 0
    # One character less fits, and is stored whole.
    fits = report_xml(**{field: "x" * (length - 1)})
    response = post(client, fits, classroom.bearer("ann"))
    assert response.status_code == 201, response.json
    assert count(classroom.url, Submission) == 1


def test_a_task_longer_than_its_column_is_a_400(client: FlaskClient, classroom: Classroom) -> None:
    report = make_report()
    invented = replace(report.results[0], id="invented.check", task="t" * 101)
    body = report_xml(replace(report, results=(*report.results, invented)))
    response = post(client, body, classroom.bearer("ann"))
    assert response.status_code == 400, response.json
    assert "task of check 'invented.check'" in response.json["reason"]
    assert count(classroom.url, Submission) == 0
    fits = replace(invented, task="t" * 100)
    body = report_xml(replace(report, results=(*report.results, fits)))
    assert post(client, body, classroom.bearer("ann")).status_code == 201


def test_the_default_size_limit_is_128_kib(client: FlaskClient, classroom: Classroom) -> None:
    """A real report is about 3 KB (10 KB with evidence): 128 KiB leaves room, 1 MiB did not
    bound a flood (32-40 MiB a minute from one student at the old limits)."""
    assert client.application.config["MAX_REPORT_BYTES"] == 128 * 1024
    body = report_xml()
    pad = 128 * 1024 - len(body) - len("<!---->")
    fits = body.replace(b"</testsuites>", b"<!--" + b"x" * pad + b"--></testsuites>")
    assert len(fits) == 128 * 1024
    assert post(client, fits, classroom.bearer("ann")).status_code == 201
    over = report_xml().replace(b"</testsuites>", b"<!--" + b"x" * (pad + 1) + b"--></testsuites>")
    response = post(client, over, classroom.bearer("ann"))
    assert response.status_code == 413, response.json
    assert count(classroom.url, Submission) == 1
