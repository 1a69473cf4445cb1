"""Fixtures for the server: real databases (a SQLite file, PostgreSQL), the app, its clients.

``database_url`` runs a test on both databases; ``app`` → ``client`` / ``runner``;
``classroom`` enrols a course with two students (known tokens) and an instructor.
PostgreSQL is started once per session from Debian's package (see devlab/server/services.py).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from devlab.server.services import Postgres, ServiceError
from webhook import create_app
from webhook.auth import hash_password
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import Course, Instructor, Student
from webhook.storage.tokens import hash_token

SIGNING_SECRET = "whsec_" + base64.b64encode(b"a test secret of thirty-two bytes").decode()
INSTRUCTOR = ("prof", "correct horse battery")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Postgres]:
    try:
        server = Postgres().start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return migrated_sqlite(tmp_path / "grader.sqlite")


@pytest.fixture
def pg_url(pg_server: Postgres) -> str:
    url = pg_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    return url


def app_config(url: str, **overrides: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test secret key",
        "SIGNING_SECRET": SIGNING_SECRET,
        "RATE_LIMIT": "1000/minute",
        **overrides,
    }


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(app_config(database_url))
    yield app
    app.extensions["grader_db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass(frozen=True)
class Classroom:
    url: str
    course: str
    tokens: dict[str, str]  # roster id → token
    instructor: tuple[str, str]

    def bearer(self, student: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[student]}"}


def enrol(
    url: str, students: tuple[str, ...] = ("ann", "bob"), course: str = "docker-101"
) -> Classroom:
    engine = make_engine(url)
    tokens = {student: f"token-of-{student}-{uuid.uuid4().hex}" for student in students}
    try:
        with make_session_factory(engine)() as session:
            row = Course(slug=course, name="Docker 101")
            session.add(row)
            session.flush()
            for student, token in tokens.items():
                session.add(
                    Student(course_id=row.id, student_id=student, name=student.title(),
                            email=f"{student}@example.edu", token_hash=hash_token(token))
                )  # fmt: skip
            session.add(
                Instructor(username=INSTRUCTOR[0], password_hash=hash_password(INSTRUCTOR[1]))
            )
            session.commit()
    finally:
        engine.dispose()
    return Classroom(url=url, course=course, tokens=tokens, instructor=INSTRUCTOR)


@pytest.fixture
def classroom(app: Flask) -> Classroom:
    return enrol(app.config["DATABASE_URL"])
