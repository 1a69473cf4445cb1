"""Durable commits on SQLite (issue 11, finding 12): a 2xx means the report is on disk.

With ``synchronous=NORMAL`` a WAL commit survives a killed process but not a power
loss; the student's outbox deletes its copy on the 2xx, so the server must not
answer before the WAL is fsynced (``synchronous=FULL``, value 2).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from webhook import create_app
from webhook.storage.db import make_engine

from .conftest import app_config, migrated_sqlite

FULL = 2


def test_the_servers_sqlite_connections_commit_durably(tmp_path: Path) -> None:
    app: Flask = create_app(app_config(migrated_sqlite(tmp_path / "grader.sqlite")))
    try:
        with app.app_context():
            engine = app.extensions["grader_db"].engine
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == FULL
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        app.extensions["grader_db"].dispose()


def test_every_engine_the_cli_makes_is_durable_too(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == FULL
    finally:
        engine.dispose()
