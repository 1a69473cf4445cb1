"""The board's data: who is stuck, the common problems now, and the ETag a poll sends back."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from devlab.server.enrolment import Classroom, app_config, enrol
from tests.server.progress import LAB, document, post, turn_on
from webhook import create_app

BOARD = f"/api/v1/courses/docker-101/assignments/{LAB}/board"
CLASS = tuple(f"s{n:02d}" for n in range(12))


@pytest.fixture
def big(database_url: str) -> tuple[Flask, Classroom]:
    app = create_app(app_config(database_url))
    return app, enrol(database_url, students=CLASS)


def test_a_failure_that_lasts_past_the_limit_is_stuck_with_its_message(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom, monkeypatch
) -> None:
    turn_on(runner, "--stuck-minutes", "1")
    failing = ("mydb.running", "failed", "container 3f2a9c1b7d0e is not running")
    post(client, classroom.tokens["ann"], document(failing))
    post(client, classroom.tokens["bob"], document(("mydb.running", "passed", "")))
    board = client.get(BOARD, auth=classroom.instructor).json
    assert board["stuck"] == [] and board["stuck_minutes"] == 1
    later = time.time() + 61
    monkeypatch.setattr("webhook.board.api.clock", lambda: later)
    post(client, classroom.tokens["ann"], document(failing))  # the same again: still stuck
    board = client.get(BOARD, auth=classroom.instructor).json
    assert [(s["student"], s["id"], s["message"]) for s in board["stuck"]] == [
        ("ann", "mydb.running", "container 3f2a9c1b7d0e is not running")
    ]
    ann = next(s for s in board["students"] if s["id"] == "ann")
    assert ann["stuck"]["id"] == "mydb.running"
    # a new message is a new problem: the clock starts again
    monkeypatch.undo()
    post(client, classroom.tokens["ann"], document(("mydb.running", "failed", "other")))
    assert client.get(BOARD, auth=classroom.instructor).json["stuck"] == []


def test_common_problems_group_messages_that_differ_in_ids_numbers_and_names(
    big: tuple[Flask, Classroom],
) -> None:
    app, classroom = big
    client = app.test_client()
    turn_on(app.test_cli_runner())
    for n, student in enumerate(CLASS):
        if n < 7:
            said = ("tweet.serves", "failed", f"port {8000 + n} of container {n:012x}abcd closed")
        elif n < 10:
            said = ("mydb.image", "failed", f"image 'mysql:{n}.0' is not 'mysql:8.0'")
        else:
            said = ("mydb.image", "passed", "")
        assert post(client, classroom.tokens[student], document(said)).status_code == 200
    board = client.get(BOARD, auth=classroom.instructor).json
    top = [(p["check"], p["count"]) for p in board["problems"]]
    assert top == [("tweet.serves", 7), ("mydb.image", 3)]
    assert board["problems"][0]["students"] == list(CLASS[:7])
    assert board["problems"][0]["pattern"] == "port <n> of container <id> closed"
    assert len(board["students"]) == len(CLASS)
    app.extensions["grader_db"].dispose()


def test_a_poll_that_finds_nothing_new_is_answered_304_without_a_body(
    client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom, monkeypatch
) -> None:
    monkeypatch.setattr("webhook.board.data.STUCK_GRANULARITY", 10**9)  # no turn-over here
    turn_on(runner)
    first = client.get(BOARD, auth=classroom.instructor)
    etag = first.headers["ETag"]
    again = client.get(BOARD, auth=classroom.instructor, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    post(client, classroom.tokens["ann"], document(("hello.runs", "passed", "")))
    changed = client.get(BOARD, auth=classroom.instructor, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    ann = next(s for s in changed.json["students"] if s["id"] == "ann")
    assert ann["checks"]["hello.runs"]["status"] == "passed" and ann["passed"] == 1
