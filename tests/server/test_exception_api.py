"""The JSON API of per-student exceptions: what an instructor's login may set, what it
changes in the grade the exports and the passback read, and each refusal's status with
nothing changed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from devlab.server.enrolment import Classroom
from devlab.server.reports import report_xml
from webhook.auth import hash_password
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Instructor

from .test_api import post
from .test_crosscheck import exported, instructor
from .test_exception_cli import pk, stored, told
from .test_late_and_exceptions import FULL, passed_back

BASE = "/api/v1/courses/docker-101/assignments/docker_beginners"
SEVEN = {"grade": 7, "note": "regraded"}


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


def test_an_extension_until_a_time_or_by_days_and_the_listing_says_all(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    """``until`` is read as ISO 8601 (no offset: UTC; an offset: converted), ``days`` as a
    whole number; the listing gives each exception's every field, replaced ones closed."""
    closes = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    ran = app.test_cli_runner().invoke(
        args=["assignment", "set", "docker-101", "docker_beginners", "--closes", "2026-12-01T09:00"]
    )
    assert ran.exit_code == 0, ran.output
    prof = instructor(classroom)
    url = f"{BASE}/students/ann/extension"
    naive = client.put(url, json={"until": "2026-12-03T10:30", "note": "flu"}, headers=prof)
    assert naive.status_code == 200, naive.json
    assert naive.json == {
        "student_id": "ann",
        "kind": "extension",
        "due": "2026-12-03T10:30:00+00:00",
    }
    offset = client.put(
        url, json={"until": "2026-12-04T12:00+02:00", "note": "flu, longer"}, headers=prof
    )
    assert offset.json["due"] == "2026-12-04T10:00:00+00:00", offset.json
    days = client.put(url, json={"days": 2, "note": "accommodation"}, headers=prof)
    assert days.json["due"] == (closes + timedelta(days=2)).isoformat(), days.json
    for bad in ({"until": "next week", "note": "x"}, {"days": True, "note": "x"},
                {"days": "2", "note": "x"}):  # fmt: skip
        refused = client.put(url, json=bad, headers=prof)
        assert refused.status_code == 400 and refused.json["error"] == "bad_request", bad
    gone = client.delete(url, json={"note": "over"}, headers=prof)
    assert gone.json == {"student_id": "ann", "kind": "extension", "removed": True}
    again = client.delete(url, json={"note": "over"}, headers=prof)
    assert again.status_code == 200 and again.json["removed"] is False

    listed = client.get(f"{BASE}/exceptions", headers=prof).json["exceptions"]
    assert len(listed) == 3
    for row in listed:
        assert datetime.fromisoformat(row["set_at"]) and datetime.fromisoformat(row["removed_at"])
        del row["set_at"], row["removed_at"]
    common = {"student_id": "ann", "kind": "extension", "grade": None, "set_by": "prof",
              "removed_by": "prof"}  # fmt: skip
    assert listed == [
        {**common, "until": "2026-12-03T10:30:00+00:00", "days": None, "note": "flu",
         "removed_note": "replaced"},
        {**common, "until": "2026-12-04T10:00:00+00:00", "days": None, "note": "flu, longer",
         "removed_note": "replaced"},
        {**common, "until": None, "days": 2, "note": "accommodation", "removed_note": "over"},
    ]  # fmt: skip


def test_an_override_in_force_is_listed_as_such(client: FlaskClient, classroom: Classroom) -> None:
    prof = instructor(classroom)
    assert client.put(f"{BASE}/students/bob/override", json=SEVEN, headers=prof).status_code == 200
    [row] = client.get(f"{BASE}/exceptions", headers=prof).json["exceptions"]
    assert (row["grade"], row["note"], row["removed_by"], row["removed_at"]) == (
        7, "regraded", None, None,
    )  # fmt: skip
    assert row["removed_note"] is None and row["until"] is None and row["days"] is None


def test_excusing_says_what_it_needs_and_tells_the_lms_hook(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    prof = instructor(classroom)
    changed = told(app)
    url = f"{BASE}/students/bob/excused"
    empty = client.put(url, json={"note": ""}, headers=prof)
    assert empty.status_code == 422
    assert empty.json["reason"].startswith("excusing a student needs a note"), empty.json
    assert changed == []
    assert client.put(url, json={"note": "leave"}, headers=prof).status_code == 200
    assert changed == [pk(classroom.url, "bob")]


def test_an_extensions_edges(app: Flask, client: FlaskClient, classroom: Classroom) -> None:
    """Until exactly the close is no extension; one day is; an extension names one of until
    and days, and a note: each refusal says which."""
    ran = app.test_cli_runner().invoke(
        args=["assignment", "set", "docker-101", "docker_beginners", "--closes", "2026-12-01T09:00"]
    )
    assert ran.exit_code == 0, ran.output
    prof = instructor(classroom)
    url = f"{BASE}/students/ann/extension"
    cases = [
        ({"until": "2026-12-01T09:00:00Z", "note": "x"}, "is not after the assignment's close"),
        ({"note": "x"}, "an extension is --until WHEN or --days N (one of them)"),
        ({"days": 1, "until": "2026-12-02T09:00", "note": "x"}, "(one of them)"),
        ({"days": 1, "note": " "}, "an extension needs a note"),
        ({"days": 0, "note": "x"}, "give at least 1"),
    ]
    for body, said in cases:
        refused = client.put(url, json=body, headers=prof)
        assert refused.status_code == 422 and said in refused.json["reason"], (body, refused.json)
    one = client.put(url, json={"days": 1, "note": "a day"}, headers=prof)
    assert one.status_code == 200 and one.json["due"] == "2026-12-02T09:00:00+00:00", one.json
    just = client.put(url, json={"until": "2026-12-01T09:00:01Z", "note": "x"}, headers=prof)
    assert just.status_code == 200 and just.json["due"] == "2026-12-01T09:00:01+00:00"
