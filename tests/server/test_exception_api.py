"""The JSON API of per-student exceptions: what an instructor's login may set, what it
changes in the grade the exports and the passback read, and each refusal's status with
nothing changed."""

from __future__ import annotations

import base64

from flask import Flask
from flask.testing import FlaskClient

from devlab.server.enrolment import Classroom
from devlab.server.reports import report_xml
from webhook.auth import hash_password
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Instructor

from .test_api import post
from .test_crosscheck import exported, instructor
from .test_exception_cli import stored
from .test_late_and_exceptions import FULL, passed_back

BASE = "/api/v1/courses/docker-101/assignments/docker_beginners"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_an_instructor_sets_and_removes_an_override_and_an_extension(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    assert post(client, report_xml(), classroom.bearer("ann")).status_code == 201
    url = f"{BASE}/students/ann/override"
    done = client.put(url, json={"grade": 7, "note": "regraded"}, headers=instructor(classroom))
    assert done.status_code == 200, done.json
    assert done.json == {"student_id": "ann", "kind": "override", "grade": 7}
    assert exported(app, classroom)["ann"] == ("7", "")
    assert passed_back(app, classroom.url)["ann"] == 7
    gone = client.delete(url, json={"note": "undo"}, headers=instructor(classroom))
    assert gone.status_code == 200 and gone.json["removed"] is True
    assert passed_back(app, classroom.url)["ann"] == FULL

    client.put(
        f"{BASE}/students/bob/excused", json={"note": "leave"}, headers=instructor(classroom)
    )
    listed = client.get(f"{BASE}/exceptions", headers=instructor(classroom)).json["exceptions"]
    assert [(e["student_id"], e["kind"], e["set_by"], e["removed_by"]) for e in listed] == [
        ("ann", "override", "prof", "prof"),
        ("bob", "excused", "prof", None),
    ]


def test_refusals_change_nothing(app: Flask, client: FlaskClient, classroom: Classroom) -> None:
    engine = make_engine(classroom.url)
    try:
        with make_session_factory(engine)() as session:
            session.add(Instructor(username="other", password_hash=hash_password("other pw!")))
            session.commit()
    finally:
        engine.dispose()
    before = stored(classroom.url)
    prof = instructor(classroom)
    seven = {"grade": 7, "note": "x"}
    cases: list[tuple[str, dict[str, object], int]] = [
        ("ann/override", {"json": seven}, 401),
        ("ann/override", {"json": seven, "headers": classroom.bearer("ann")}, 401),
        ("ann/override", {"json": seven, "headers": basic("other", "other pw!")}, 404),
        ("zed/override", {"json": seven, "headers": prof}, 404),
        ("ann/holiday", {"json": {"note": "x"}, "headers": prof}, 404),
        ("ann/override", {"data": "grade=7", "headers": prof}, 415),
        ("ann/override", {"json": {"grade": "7", "note": "x"}, "headers": prof}, 400),
        ("ann/override", {"json": {"grade": 7}, "headers": prof}, 400),
        ("ann/override", {"json": {"grade": FULL + 1, "note": "x"}, "headers": prof}, 422),
        ("ann/override", {"json": {"grade": 7, "note": " "}, "headers": prof}, 422),
        # the assignment has no close to extend
        ("ann/extension", {"json": {"days": 2, "note": "x"}, "headers": prof}, 422),
    ]
    for path, kwargs, status in cases:
        response = client.put(f"{BASE}/students/{path}", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, (path, response.status_code, response.json)
        assert response.json is not None and "\n" not in response.json["reason"]
    assert stored(classroom.url) == before
