"""What docs/server.md promises of the class board, on every server it names: progress
refused in one line while off and taken once on, and the board's poll answered 304 with no
body while nothing changed (waitress via ``grade-server run``, gunicorn, the nginx recipe)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from devlab.server.enrolment import app_config, enrol, migrated_sqlite
from webhook import create_app

from .test_refusals import SERVERS, Served

LAB = "docker_beginners"
BOARD = f"/api/v1/courses/docker-101/assignments/{LAB}/board"


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("board")
    classroom = enrol(migrated_sqlite(root / "grader.sqlite"), students=("ann", "bob"))
    with SERVERS[request.param](root, classroom) as target:
        yield Served(request.param, target, classroom)


def _progress(served: Served, status: str) -> requests.Response:
    body = {"lab": LAB, "checks": [{"id": "hello.runs", "status": status, "message": "no"}]}
    return served.request(
        "POST", "/api/v1/progress", json=body, headers=served.classroom.bearer("ann")
    )


def test_progress_is_refused_while_off_then_taken_and_the_poll_is_conditional(
    served: Served,
) -> None:
    refused = _progress(served, "failed")
    assert refused.status_code == 403 and refused.json()["error"] == "progress_off"
    app = create_app(app_config(served.classroom.url))
    made = app.test_cli_runner().invoke(
        args=["assignment", "set", "docker-101", LAB, "--progress", "on"]
    )
    app.extensions["grader_db"].dispose()
    assert made.exit_code == 0, made.output
    taken = _progress(served, "failed")
    assert taken.status_code == 200, taken.text

    auth = served.classroom.instructor
    first = served.request("GET", BOARD, auth=auth)
    assert first.status_code == 200 and first.headers.get("ETag")
    probe = served.request(
        "GET", BOARD, auth=auth, headers={"If-None-Match": first.headers["ETag"]}
    )
    if probe.status_code == 200:  # the stuck clock's 15 s turned over in between: again
        first = probe
    again = served.request(
        "GET", BOARD, auth=auth, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert _progress(served, "passed").status_code == 200
    changed = served.request(
        "GET", BOARD, auth=auth, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200
    ann = next(s for s in changed.json()["students"] if s["id"] == "ann")
    assert ann["checks"]["hello.runs"]["status"] == "passed"
    assert served.request("GET", BOARD, headers=served.classroom.bearer("ann")).status_code == 403
