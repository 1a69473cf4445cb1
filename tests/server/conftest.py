"""Fixtures for the server: real databases (a SQLite file, PostgreSQL), the app, its clients.

``database_url`` runs a test on both databases; ``app`` → ``client`` / ``runner``;
``classroom`` enrols a course with two students (known tokens) and an instructor.
PostgreSQL is started once per session from Debian's package (see devlab/server/services.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from devlab.server.enrolment import Classroom, app_config, enrol, migrated_sqlite
from devlab.server.services import Postgres, ServiceError
from webhook import create_app
from webhook.storage.db import upgrade


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


@pytest.fixture
def classroom(app: Flask) -> Classroom:
    return enrol(app.config["DATABASE_URL"])
