"""The schema comes from Alembic only, and matches the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from webhook import create_app
from webhook.storage.db import make_engine, upgrade
from webhook.storage.models import Base

from .conftest import app_config


def test_the_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)  # a second time: nothing to do
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == "0001"
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_the_app_never_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.sqlite"
    app = create_app(app_config(url))
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    assert (
        client.post(
            "/api/v1/submissions",
            data=b"<x/>",
            headers={"Content-Type": "application/xml", "Authorization": "Bearer t"},
        ).status_code
        == 503
    )
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    app.extensions["grader_db"].dispose()
