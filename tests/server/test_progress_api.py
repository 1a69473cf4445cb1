"""``POST /api/v1/progress`` and the board's JSON: what is taken, what is refused, who reads."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from devlab.server.enrolment import Classroom
from tests.server.progress import LAB, document, post, turn_on
from webhook.board import store
from webhook.board.models import Progress, ProgressChange
from webhook.database import get_db

BOARD = f"/api/v1/courses/docker-101/assignments/{LAB}/board"
FAIL = ("mydb.running", "failed", "container 3f2a9c1b7d0e is not running")


def _rows(app: Flask) -> tuple[int, int]:
    with app.app_context(), get_db().engine.connect() as connection:
        latest = connection.scalar(select(func.count()).select_from(Progress))
        changes = connection.scalar(select(func.count()).select_from(ProgressChange))
    return int(latest or 0), int(changes or 0)


def test_progress_is_refused_with_a_clear_line_until_the_assignment_takes_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    token = classroom.tokens["ann"]
    refused = post(client, token, document(FAIL))
    assert refused.status_code == 403
    assert refused.json["error"] == "progress_off"
    assert "does not take progress" in refused.json["reason"]
    assert _rows(app) == (0, 0)  # nothing stored
    turn_on(runner)
    taken = post(client, token, document(FAIL))
    assert taken.status_code == 200 and taken.json == {"changed": True}
    assert _rows(app) == (1, 1)
    off = runner.invoke(args=["assignment", "set", "docker-101", LAB, "--progress", "off"])
    assert off.exit_code == 0 and "progress off" in off.output
    assert post(client, token, document(FAIL)).json["error"] == "progress_off"


def test_one_row_per_student_updated_in_place_and_only_changes_in_the_history(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    turn_on(runner)
    token = classroom.tokens["ann"]
    assert post(client, token, document(FAIL)).json == {"changed": True}
    assert post(client, token, document(FAIL)).json == {"changed": False}  # the same again
    passed = ("mydb.running", "passed", "")
    assert post(client, token, document(passed)).json == {"changed": True}
    assert _rows(app) == (1, 2)
    with app.app_context(), get_db().engine.connect() as connection:
        checks = json.loads(connection.scalar(select(Progress.checks)) or "[]")
    assert [(c["id"], c["status"]) for c in checks] == [("mydb.running", "passed")]


def test_the_history_is_bounded_per_student(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom, monkeypatch
) -> None:
    monkeypatch.setattr(store, "HISTORY_KEPT", 5)
    monkeypatch.setattr(
        store,
        "_OLDEST_KEPT",
        store._OLDEST_KEPT.offset(4),  # the statement is built at import
    )
    turn_on(runner)
    for step in range(12):
        message = f"step {step} failed at line {step}"
        said = post(client, classroom.tokens["ann"], document(("hello.runs", "failed", message)))
        assert said.json == {"changed": True}
    assert _rows(app) == (1, 5)


def test_bad_documents_are_refused_with_one_line_and_nothing_stored(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    turn_on(runner)
    token = classroom.tokens["ann"]
    bearer = {"Authorization": f"Bearer {token}"}
    cases = [
        (document(("a", "maybe", "")), 400, "bad_progress"),
        (document(("a", "passed", ""), ("a", "failed", "x")), 400, "bad_progress"),
        ({"lab": LAB, "checks": "all"}, 400, "bad_progress"),
        (document(*[(f"c{i}", "passed", "") for i in range(101)]), 400, "bad_progress"),
        (document(FAIL, lab="no_such_lab"), 404, "no_assignment"),
    ]
    for body, status, code in cases:
        answer = post(client, token, body)
        assert (answer.status_code, answer.json["error"]) == (status, code), body
    huge = json.dumps(document(("a", "failed", "x" * 20000)))
    too_large = client.post("/api/v1/progress", data=huge, headers=bearer,
                            content_type="application/json")  # fmt: skip
    assert too_large.status_code == 413
    xml = client.post("/api/v1/progress", data="<x/>", headers=bearer, content_type="text/xml")
    assert xml.status_code == 415
    assert client.post("/api/v1/progress", json=document(FAIL)).status_code == 401
    assert post(client, "not-a-token", document(FAIL)).status_code == 401
    assert _rows(app) == (0, 0)


def test_a_long_message_is_kept_to_one_line(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    turn_on(runner)
    long = "first line " + "x" * 500 + "\nsecond line with a secret"
    assert post(client, classroom.tokens["ann"], document(("a", "failed", long))).status_code == 200
    with app.app_context(), get_db().engine.connect() as connection:
        (check,) = json.loads(connection.scalar(select(Progress.checks)) or "[]")
    assert len(check["message"]) == 200 and "secret" not in check["message"]


def test_progress_is_rate_limited_per_student(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    from tests.server.windows import within_one_window

    turn_on(runner)
    app.config["PROGRESS_RATE_LIMIT_PARSED"] = (3, 60)
    within_one_window(60, needed=10)
    for step in range(3):
        assert post(client, classroom.tokens["ann"], document(("a", "failed", f"{step}"))).json
    over = post(client, classroom.tokens["ann"], document(("a", "passed", "")))
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert post(client, classroom.tokens["bob"], document(FAIL)).status_code == 200  # bob's own


def test_students_cannot_read_the_board_and_instructors_read_their_courses_only(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    turn_on(runner)
    post(client, classroom.tokens["bob"], document(FAIL))
    student = client.get(BOARD, headers=classroom.bearer("ann"))
    assert student.status_code == 403 and "bob" not in student.get_data(as_text=True)
    assert client.get(BOARD).status_code == 401
    assert client.get(BOARD, headers={"Authorization": "Bearer nope"}).status_code == 401
    made = runner.invoke(
        args=["instructor", "create", "ta", "--password-stdin"], input="pw-of-the-ta-1\n"
    )
    assert made.exit_code == 0, made.output
    stranger = client.get(BOARD, auth=("ta", "pw-of-the-ta-1"))
    assert stranger.status_code == 404  # a course not theirs, as none
    ta_token = runner.invoke(args=["instructor", "token", "ta"]).stdout.strip().splitlines()[-1]
    assert client.get(BOARD, headers={"Authorization": f"Bearer {ta_token}"}).status_code == 404
    assert post(client, ta_token, document(FAIL)).status_code == 403  # progress: students only
    added = runner.invoke(args=["course", "add-instructor", "docker-101", "ta"])
    assert added.exit_code == 0, added.output
    by_token = client.get(BOARD, headers={"Authorization": f"Bearer {ta_token}"})
    assert by_token.status_code == 200 and by_token.json["course"] == "docker-101"
    admin = client.get(BOARD, auth=classroom.instructor)
    assert admin.status_code == 200
    bob = next(s for s in admin.json["students"] if s["id"] == "bob")
    assert bob["checks"]["mydb.running"]["status"] == "failed"
