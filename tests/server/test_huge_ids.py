"""Ids beyond the columns' range (issue 20, item 12): simply not found, on both databases.

``GET /api/v1/submissions/<20 digits>`` was a 500 (``OverflowError`` on SQLite, out of
range on PostgreSQL's ``integer``); an id no row can have is a 404 like any missing one.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devlab.server.enrolment import Classroom

HUGE = ["99999999999999999999", str(2**63), str(2**31)]


@pytest.mark.parametrize("huge", HUGE)
def test_a_submission_id_beyond_the_column_is_not_found(
    app: Flask, client: FlaskClient, classroom: Classroom, huge: str
) -> None:
    response = client.get(f"/api/v1/submissions/{huge}", headers=classroom.bearer("ann"))
    assert response.status_code == 404, response.text[:300]
    assert response.json == {"error": "not_found", "reason": f"no submission {huge} for you"}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/gradebook/docker-101/submissions/99999999999999999999"),
    ("POST", "/gradebook/docker-101/flags/99999999999999999999"),
])  # fmt: skip
def test_the_gradebooks_ids_beyond_the_column_are_not_found(
    app: Flask, client: FlaskClient, classroom: Classroom, method: str, path: str
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.open(
        path, method=method, auth=classroom.instructor, data={"action": "accept"}
    )
    assert response.status_code == 404, response.text[:300]
