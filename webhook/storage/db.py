"""Engines, sessions and schema migrations.

SQLite is the embedded default: WAL mode (readers never wait for the writer), a
busy timeout (writers from several gunicorn workers queue instead of failing)
and durable commits: a commit is on disk (its WAL frames fsynced) before the
answer is sent, so a power loss cannot drop a report whose 2xx the student's
outbox already acted on (``synchronous=NORMAL`` alone only survives a killed
process). How, :data:`SQLITE_DURABILITY` ``"group"``: SQLite commits with
``synchronous=NORMAL`` and :class:`DurableConnection` fsyncs the WAL after the
commit; a commit made inside :func:`write_lock` is fsynced once the lock is
released, so that writers queue for the commit only (0.1 ms), not for the disk's
flush (3 ms here), and one fsync carries every commit written before it (group
commit). Equivalent to ``synchronous=FULL`` (a commit's frames are on disk when
the fsync returns; SQLite's checkpoints sync the WAL before and the database after
copying) at about 5 times its rate with four writers; ``bench/ingest`` measures
FULL, NORMAL and this side by side.
PostgreSQL is used by URL (``postgresql+psycopg://...``).

The schema is created and changed by Alembic only (:func:`upgrade`), never by
the app at start-up: ``create_all()`` in each gunicorn worker races.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How SQLite commits reach the disk: ``"group"`` (the default, see the module's doc),
#: or for ``bench/ingest``'s comparison only ``"full"`` (``synchronous=FULL``, each commit
#: fsynced inside the write lock) and ``"normal"`` (never fsynced: not durable).
SQLITE_DURABILITY = "group"

_deferred = threading.local()  # a commit inside write_lock: the WAL it must fsync after


def sync_file(path: str) -> None:
    """``fdatasync`` a file by path (opened anew: SQLite may have made a new WAL since)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no WAL: the last connection checkpointed it (and synced)
        return
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


class DurableConnection(sqlite3.Connection):
    """A SQLite connection whose commits are on disk when :meth:`commit` returns, or, inside
    :func:`write_lock`, when the lock is released (the lock fsyncs the WAL then)."""

    wal_path = ""

    def commit(self) -> None:
        wrote = self.in_transaction
        super().commit()
        if not wrote or not self.wal_path:
            return
        if getattr(_deferred, "active", False):
            _deferred.pending = self.wal_path
        else:
            sync_file(self.wal_path)


def make_engine(url: str, *, autocheckpoint: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and foreign keys.

    ``autocheckpoint=False`` (the server's engine): SQLite no longer copies the
    WAL back into the database inside some unlucky commit (milliseconds, while
    every other writer waits); :func:`webhook.ingest.checkpoint_after` calls
    :func:`checkpoint` instead, once a response has been sent.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        connect_args.setdefault("factory", DurableConnection)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if not autocheckpoint:
            event.listen(engine, "connect", _no_autocheckpoint)
        return engine
    # No pre-ping: it costs a round trip on every checkout. A connection that died
    # fails its request once (503, and the client sends again); SQLAlchemy then
    # invalidates the pool. Recycling bounds how stale a pooled connection gets.
    kwargs.setdefault("pool_recycle", 3600)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        full = SQLITE_DURABILITY == "full" or mode != "wal"  # no WAL (in memory): plain FULL
        cursor.execute(f"PRAGMA synchronous={'FULL' if full else 'NORMAL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        database = cursor.execute("PRAGMA database_list").fetchone()[2]
    finally:
        cursor.close()
    group = SQLITE_DURABILITY == "group" and not full and database
    if group and isinstance(dbapi_connection, DurableConnection):
        dbapi_connection.wal_path = database + "-wal"


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint(engine: Engine) -> None:
    """Copy a SQLite WAL back into the database, holding writers back only briefly.

    First the bulk, alongside the writers (passive); then, under the write lock,
    the few frames they added meanwhile, so that the checkpoint completes and
    the next writer starts the WAL over instead of growing it.
    """
    if engine.url.get_backend_name() != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        with write_lock(engine):
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


class _WriteLock:
    """An exclusive ``flock`` on a file beside the database, shared by every process.

    SQLite's own busy handler makes a waiting writer *sleep* (1, 2, 5, 10 ... ms)
    and retry; under a burst from several gunicorn workers those sleeps, not the
    work, set the latency. Taking this lock around a short write transaction
    queues writers in the kernel instead, and each wakes the moment the previous
    one is done. (A separate file: closing any descriptor of the database file
    itself would drop SQLite's POSIX locks.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd = -1
        self._pid = 0

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._pid != os.getpid():  # a forked worker opens its own description
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        _deferred.active, _deferred.pending = True, ""

    def __exit__(self, *exc: object) -> None:
        wal, _deferred.active, _deferred.pending = _deferred.pending, False, ""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()
        if wal:  # the commit made inside: on disk before the caller answers anyone
            sync_file(wal)


def not_durable() -> None:
    """This write transaction's commit (made inside :func:`write_lock`) need not be on disk
    before the answer: for rows the next request replaces anyway (the class board's live
    progress). SQLite's WAL keeps it safe from corruption; a power loss may lose it, and the
    next durable commit or checkpoint carries it to the disk. Saves the answer one fsync."""
    _deferred.pending = ""


_WRITE_LOCKS: dict[str, _WriteLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
# Per engine, so that the hot path does not resolve the path again (syscalls).
_ENGINE_LOCKS: weakref.WeakKeyDictionary[Engine, AbstractContextManager[None]] = (
    weakref.WeakKeyDictionary()
)


def write_lock(engine: Engine) -> AbstractContextManager[None]:
    """The lock :mod:`webhook.ingest` holds around its one write transaction: serialises
    SQLite file writers without sleeping; a no-op for PostgreSQL (and in-memory SQLite),
    whose locks queue already."""
    lock = _ENGINE_LOCKS.get(engine)
    if lock is None:
        lock = _ENGINE_LOCKS[engine] = _lock_for(engine)
    return lock


def _lock_for(engine: Engine) -> AbstractContextManager[None]:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return contextlib.nullcontext()
    path = str(Path(url.database).resolve()) + "-writelock"
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(path)
        if lock is None:
            lock = _WRITE_LOCKS[path] = _WriteLock(Path(path))
    return lock


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection for one write transaction inside :func:`write_lock`: committed on
    success, rolled back on any error. For writers besides ingest (decisions, re-checks),
    which keep the same rule as :mod:`webhook.ingest`."""
    with engine.connect() as connection, write_lock(engine):
        try:
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


#: PostgreSQL's advisory lock "grmi" (ASCII, high half): held by a migration until it commits,
#: so that app nodes started together (each unit runs ``grade-server db upgrade`` first)
#: migrate one at a time, and the later ones find the schema up to date instead of failing
#: on the tables the first one made.
_MIGRATION_LOCK = text(f"SELECT pg_advisory_xact_lock({0x67726D69 << 32})")


def upgrade(url: str, revision: str = "head", *, rubric_json: str | None = None) -> None:
    """Bring the database at ``url`` up to ``revision`` (creates a fresh one; on PostgreSQL
    one migrating process at a time).

    ``rubric_json``: the server's rubric, which migration 0011 makes every existing
    course's first assignment's (without it, ``GRADER_RUBRIC``'s file or the shipped one).
    """
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite rebuilds a table to change its constraints (Alembic's batch mode), and
                # dropping the old one would cascade to its children's rows: foreign keys are
                # off for the migrations (a pragma outside any transaction), checked at the end.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            with connection.begin():
                if not sqlite:  # several nodes' `db upgrade` at once: one after the other
                    connection.execute(_MIGRATION_LOCK)
                config = alembic_config(url)
                config.attributes["connection"] = connection
                config.attributes["rubric_json"] = rubric_json
                command.upgrade(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left rows whose parent row is gone")
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    finally:
        engine.dispose()


def is_migrated(engine: Engine) -> bool:
    """Whether the schema exists (``grade-server db upgrade`` has run)."""
    return inspect(engine).has_table("submission")
