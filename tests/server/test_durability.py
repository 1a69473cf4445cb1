"""Durable commits on SQLite (issue 11, finding 12): a 2xx means the report is on disk.

With ``synchronous=NORMAL`` alone a WAL commit survives a killed process but not a power
loss, and the student's outbox deletes its copy on the 2xx. The server's commits are
made durable by an ``fdatasync`` of the WAL after each commit (group commit: outside the
write lock, before the answer). These tests watch the real system call (a spy that calls
through), on the real ingest path and on the CLI's engines.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from devlab.server.enrolment import app_config, enrol, migrated_sqlite
from devlab.server.reports import report_xml
from webhook import create_app
from webhook.storage import db
from webhook.storage.db import DurableConnection, make_engine

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool]]]:
    """Every fdatasync db makes: (the file's path, whether the write lock was held)."""
    calls: list[tuple[str, bool]] = []
    real = os.fdatasync

    def spy(fd: int) -> None:
        calls.append((os.readlink(f"/proc/self/fd/{fd}"), getattr(db._deferred, "active", False)))
        real(fd)

    monkeypatch.setattr(db.os, "fdatasync", spy)
    yield calls


def test_a_stored_report_is_fsynced_after_the_write_lock_before_its_answer(
    tmp_path: Path, synced: list[tuple[str, bool]]
) -> None:
    database = tmp_path / "grader.sqlite"
    classroom = enrol(migrated_sqlite(database))
    app: Flask = create_app(app_config(classroom.url))
    try:
        client = app.test_client()
        synced.clear()
        response = client.post(
            "/api/v1/submissions", data=report_xml(), headers={**XML, **classroom.bearer("ann")}
        )
        assert response.status_code == 201
        assert synced == [(f"{database}-wal", False)]  # one fsync, the lock released
        synced.clear()
        assert client.get(f"/api/v1/submissions/{response.json['id']}",
                          headers=classroom.bearer("ann")).status_code == 200  # fmt: skip
        assert synced == []  # reading commits nothing
        with app.app_context():
            engine = app.extensions["grader_db"].engine
            with engine.connect() as connection:
                assert isinstance(connection.connection.dbapi_connection, DurableConnection)
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        app.extensions["grader_db"].dispose()


def test_the_cli_engines_commits_are_fsynced_too(
    tmp_path: Path, synced: list[tuple[str, bool]]
) -> None:
    path = tmp_path / "cli.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (v TEXT)"))
        synced.clear()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES ('x')"))
        assert synced == [(f"{path}-wal", False)]
    finally:
        engine.dispose()


def test_without_the_fsync_a_commit_would_not_be_durable(
    tmp_path: Path, synced: list[tuple[str, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's NORMAL baseline: what the server must not be (no fsync at all)."""
    monkeypatch.setattr(db, "SQLITE_DURABILITY", "normal")
    path = tmp_path / "normal.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (v TEXT)"))
            connection.execute(text("INSERT INTO t VALUES ('x')"))
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert synced == []
    finally:
        engine.dispose()
