"""Course scoping: an instructor sees, decides and exports only the courses they teach.

Attacks by ``bee``, who teaches docker-202 only, on docker-101 (taught by ``teacher``):
every page, form, export and JSON of docker-101 answers 404 as if the course did not
exist, by session and by HTTP basic alike. A server administrator (``grade-server
instructor set USER --admin``) sees both courses.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from devlab.server.seeded import COURSE, PASSWORD, USERNAME, csrf_from
from webhook.auth import hash_password
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, CourseInstructor, Flag, Instructor, Student

from .conftest import FlaggedClass, flagged_class

OTHER = "docker-202"
BEE = ("bee", "bee's own long password")
ROOT = ("root", "root's own long password")


@pytest.fixture
def two_courses(tmp_path: Path) -> Iterator[FlaggedClass]:
    """docker-101 (ann, bob, carol; flagged; taught by teacher) beside docker-202 (dan;
    taught by bee), and ``root``, who teaches nothing."""
    made = flagged_class(f"sqlite:///{tmp_path / 'two.sqlite'}", tmp_path)
    engine = make_engine(made.url)
    try:
        with make_session_factory(engine)() as session:
            other = Course(slug=OTHER, name="Docker 202")
            bee = Instructor(username=BEE[0], password_hash=hash_password(BEE[1]))
            root = Instructor(username=ROOT[0], password_hash=hash_password(ROOT[1]))
            session.add_all([other, bee, root])
            session.flush()
            session.add(Student(course_id=other.id, student_id="dan", token_hash="d" * 64))
            session.add(CourseInstructor(course_id=other.id, instructor_id=bee.id))
            session.commit()
    finally:
        engine.dispose()
    yield made
    made.app.extensions["grader_db"].dispose()


def log_in(client: FlaskClient, username: str, password: str) -> FlaskClient:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def open_flag(made: FlaggedClass) -> int:
    engine = make_engine(made.url)
    try:
        with make_session_factory(engine)() as session:
            flag = session.scalars(
                select(Flag).join(Course).where(Course.slug == COURSE, Flag.status == "open")
            ).first()
            assert flag is not None
            return flag.id
    finally:
        engine.dispose()


def flag_status(made: FlaggedClass, flag_id: int) -> str:
    engine = make_engine(made.url)
    try:
        with make_session_factory(engine)() as session:
            flag = session.get(Flag, flag_id)
            assert flag is not None
            return flag.status
    finally:
        engine.dispose()


def pages_of_course_one(made: FlaggedClass) -> list[str]:
    ann = made.submissions["ann"]
    return [
        f"/gradebook/{COURSE}/",
        f"/gradebook/{COURSE}/students/ann",
        f"/gradebook/{COURSE}/submissions/{ann}",
        f"/gradebook/{COURSE}/flags",
        f"/gradebook/{COURSE}/flags?show=all",
        f"/gradebook/{COURSE}/export.csv?format=canvas",
        f"/gradebook/{COURSE}/export.csv?format=moodle",
    ]


def test_an_instructor_reads_no_page_of_a_course_they_do_not_teach(
    two_courses: FlaggedClass,
) -> None:
    bee = log_in(two_courses.app.test_client(), *BEE)
    for path in pages_of_course_one(two_courses):
        response = bee.get(path)
        assert response.status_code == 404, path
        assert "ann" not in response.get_data(as_text=True), path
    # their own course answers
    assert bee.get(f"/gradebook/{OTHER}/").status_code == 200
    assert bee.get(f"/gradebook/{OTHER}/export.csv").status_code == 200


def test_http_basic_reads_no_export_nor_json_of_a_course_not_taught(
    two_courses: FlaggedClass,
) -> None:
    client = two_courses.app.test_client()
    for path in pages_of_course_one(two_courses):
        assert client.get(path, headers=basic(*BEE)).status_code == 404, path
    ann = two_courses.submissions["ann"]
    response = client.get(f"/api/v1/submissions/{ann}", headers=basic(*BEE))
    assert response.status_code == 404
    assert "ann" not in response.get_data(as_text=True)
    # the course's own instructor still reads it
    assert (
        client.get(f"/api/v1/submissions/{ann}", headers=basic(USERNAME, PASSWORD)).status_code
        == 200
    )
    assert (
        client.get(f"/gradebook/{COURSE}/export.csv", headers=basic(USERNAME, PASSWORD)).status_code
        == 200
    )


def test_the_course_list_names_only_the_courses_taught(two_courses: FlaggedClass) -> None:
    bee = log_in(two_courses.app.test_client(), *BEE)
    listed = bee.get("/gradebook/", follow_redirects=True)
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert OTHER in text
    assert COURSE not in text
    # one course taught: straight to it, as for a server with one course
    assert bee.get("/gradebook/").headers["Location"].endswith(f"/gradebook/{OTHER}/")


def test_an_instructor_decides_no_flag_of_a_course_they_do_not_teach(
    two_courses: FlaggedClass,
) -> None:
    flag_id = open_flag(two_courses)
    bee = log_in(two_courses.app.test_client(), *BEE)
    token = csrf_from(bee.get(f"/gradebook/{OTHER}/").get_data(as_text=True))
    for action in ("accept", "reject"):
        response = bee.post(
            f"/gradebook/{COURSE}/flags/{flag_id}",
            data={"action": action, "note": "griefing", "csrf_token": token},
        )
        assert response.status_code == 404
    assert flag_status(two_courses, flag_id) == "open"
    # nor through their own course's address
    response = bee.post(
        f"/gradebook/{OTHER}/flags/{flag_id}",
        data={"action": "reject", "note": "griefing", "csrf_token": token},
    )
    assert response.status_code == 404
    assert flag_status(two_courses, flag_id) == "open"


def test_a_server_administrator_sees_every_course(two_courses: FlaggedClass) -> None:
    runner = two_courses.app.test_cli_runner()
    result = runner.invoke(args=["instructor", "set", ROOT[0], "--admin"])
    assert result.exit_code == 0, result.output
    root = log_in(two_courses.app.test_client(), *ROOT)
    text = root.get("/gradebook/").get_data(as_text=True)
    assert COURSE in text and OTHER in text
    for path in pages_of_course_one(two_courses):
        assert root.get(path).status_code == 200, path
    assert root.get(f"/gradebook/{OTHER}/").status_code == 200
    ann = two_courses.submissions["ann"]
    assert (
        two_courses.app.test_client()
        .get(f"/api/v1/submissions/{ann}", headers=basic(*ROOT))
        .status_code
        == 200
    )
    # and no longer once the flag is taken back
    result = runner.invoke(args=["instructor", "set", ROOT[0], "--no-admin"])
    assert result.exit_code == 0, result.output
    assert root.get(f"/gradebook/{COURSE}/").status_code == 404


def test_an_instructor_who_teaches_nothing_sees_no_course(two_courses: FlaggedClass) -> None:
    root = log_in(two_courses.app.test_client(), *ROOT)
    listed = root.get("/gradebook/").get_data(as_text=True)
    assert COURSE not in listed and OTHER not in listed
    assert root.get(f"/gradebook/{COURSE}/").status_code == 404


def test_the_cli_makes_an_administrator_at_creation(two_courses: FlaggedClass) -> None:
    runner = two_courses.app.test_cli_runner()
    result = runner.invoke(
        args=["instructor", "create", "boss", "--admin", "--password-stdin"],
        input="the boss's password\n",
    )
    assert result.exit_code == 0, result.output
    assert "administrator" in result.output
    engine = make_engine(two_courses.url)
    try:
        with make_session_factory(engine)() as session:
            admins = session.scalars(
                select(Instructor.username).where(Instructor.is_admin.is_(True))
            ).all()
    finally:
        engine.dispose()
    assert list(admins) == ["boss"]
    missing = runner.invoke(args=["instructor", "set", "nobody", "--admin"])
    assert missing.exit_code == 3
