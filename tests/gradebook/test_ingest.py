"""From a report the grader wrote, through the server's API, to what the gradebook shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devlab.server.reports import report_xml
from devlab.server.seeded import PASSWORD, USERNAME, csrf_from, make_app
from submissions.rubric import Rubric, shipped_rubric
from webhook.auth import hash_password
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import Course, CourseInstructor, Instructor, Student
from webhook.storage.tokens import hash_token

TOKEN = "gls_a-token-for-carol"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'grader.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        course = Course(slug="docker-101", name="Docker 101")
        teacher = Instructor(username=USERNAME, password_hash=hash_password(PASSWORD))
        session.add_all([course, teacher])
        session.flush()
        add_assignment(session, course, shipped_rubric())
        session.add(CourseInstructor(course_id=course.id, instructor_id=teacher.id))
        session.add(
            Student(
                course_id=course.id,
                student_id="carol",
                name="Carol Example",
                email="carol@example.edu",
                token_hash=hash_token(TOKEN),
            )
        )
        session.commit()
    engine.dispose()
    app = make_app(url, tmp_path)
    yield app
    app.extensions["grader_db"].dispose()


def login(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})


def test_submitted_reports_show_in_the_gradebook(server: Flask, rubric: Rubric) -> None:
    student = server.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/xml"}
    first = student.post(
        "/api/v1/submissions",
        data=report_xml(
            failing=("tweet.serves", "figlet.committed"), checks_digest="sha256:edited"
        ),
        headers=headers,
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    second = student.post(
        "/api/v1/submissions",
        data=report_xml(failing=("figlet.committed",), checks_digest="sha256:edited"),
        headers=headers,
    )
    assert second.status_code == 201
    latest = second.get_json()

    instructor = server.test_client()
    login(instructor)
    page = instructor.get("/gradebook/docker-101/a/docker_beginners").get_data(as_text=True)
    row = page[page.index('data-student="carol"') :].split("</tr>")[0]
    assert f"{latest['score']}/{latest['max_score']}" in row
    assert "⚑ 2 flagged" in row and "unknown checks digest" in row  # not in the rubric
    bars = dict(re.findall(r'data-check="([^"]+)" data-rate="(\d+)"', page))
    assert bars["figlet.committed"] == "0" and bars["tweet.serves"] == "100"

    detail = instructor.get(f"/gradebook/docker-101/submissions/{latest['id']}")
    checks = re.findall(r'<tr class="check-(\w+)" data-check="([^"]+)"', detail.get_data(True))
    assert [c for s, c in checks if s == "failed"] == ["figlet.committed"]
    assert len(checks) == len(rubric)
