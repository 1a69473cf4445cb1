"""Fixtures for the gradebook: a migrated SQLite file with a small class, the app, clients.

``app`` → ``client`` (anonymous) / ``instructor`` (logged in through the form).
The class: the sample generator's students plus two hand-made ones whose every
number the tests know (``ann``: flagged then full marks; ``bob``: one report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.webdriver.remote.webdriver import WebDriver

from devlab.browser import headless_chromium
from devlab.server.seeded import (
    COURSE,
    PASSWORD,
    USERNAME,
    Seeded,
    csrf_from,
    make_app,
    seed_database,
)
from submissions.rubric import Rubric, shipped_rubric
from webhook.auth import hash_password
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import Course, CourseInstructor, Instructor, Student


@pytest.fixture(scope="session")
def rubric() -> Rubric:
    return shipped_rubric()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, rubric: Rubric) -> Seeded:
    """One seeded database for the whole run: the pages only read it."""
    path = tmp_path_factory.mktemp("gradebook") / "grader.sqlite"
    return seed_database(f"sqlite:///{path}", rubric)


@pytest.fixture(scope="session")
def pg_seeded(rubric: Rubric) -> Iterator[Seeded]:
    """The same class in PostgreSQL (Debian's package, a throw-away cluster on loopback)."""
    from devlab.server.services import Postgres, ServiceError

    try:
        server = Postgres().start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield seed_database(server.create_database("gradebook"), rubric)
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_seeded(request: pytest.FixtureRequest) -> Seeded:
    """The seeded class in each database the server supports."""
    name = "seeded" if request.param == "sqlite" else "pg_seeded"
    found: Seeded = request.getfixturevalue(name)
    return found


@pytest.fixture(scope="session")
def app_factory() -> Callable[[str, Path], Flask]:
    """``make_app(url, instance_path)``, for tests that serve the app themselves."""
    return make_app


@pytest.fixture
def app(seeded: Seeded, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(seeded.url, tmp_path)
    yield app
    from webhook.database import get_db

    with app.app_context():
        get_db().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def instructor(client: FlaskClient) -> FlaskClient:
    """A client logged in as the instructor through the login form."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@dataclass(frozen=True)
class FlaggedClass:
    """A course where ann sent her own report, bob a copy of it and carol one typed by hand."""

    app: Flask
    url: str
    course: str
    submissions: dict[str, int]  # roster id → their one submission


def flagged_class(url: str, instance: Path) -> FlaggedClass:
    """Migrate ``url``, enrol ann, bob and carol and post their reports through the API."""
    from dataclasses import replace

    from devlab.server.reports import hand_typed, make_report, report_xml
    from webhook.storage.tokens import hash_token

    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            course = Course(slug=COURSE, name="Docker 101")
            teacher = Instructor(username=USERNAME, password_hash=hash_password(PASSWORD))
            session.add_all([course, teacher])
            session.flush()
            add_assignment(session, course, shipped_rubric())
            session.add(CourseInstructor(course_id=course.id, instructor_id=teacher.id))
            for who in ("ann", "bob", "carol"):
                session.add(
                    Student(course_id=course.id, student_id=who, name=f"{who.title()} Example",
                            email=f"{who}@example.edu", token_hash=hash_token(f"token-{who}"))
                )  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    app = make_app(url, instance)
    client = app.test_client()
    real = make_report(failing=("hello.runs",))
    bodies = {
        "ann": report_xml(real),
        "bob": report_xml(replace(real, report_id="copied-with-a-new-id")),
        "carol": hand_typed(),
    }
    submissions = {}
    for who, body in bodies.items():
        response = client.post(
            "/api/v1/submissions",
            data=body,
            headers={"Authorization": f"Bearer token-{who}", "Content-Type": "application/xml"},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        submissions[who] = response.get_json()["id"]
    return FlaggedClass(app, url, COURSE, submissions)


@pytest.fixture
def flagged(tmp_path: Path) -> Iterator[FlaggedClass]:
    made = flagged_class(f"sqlite:///{tmp_path / 'flagged.sqlite'}", tmp_path)
    yield made
    made.app.extensions["grader_db"].dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium for a module's browser tests (one per module: a fresh profile)."""
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver
