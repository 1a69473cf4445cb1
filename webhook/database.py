"""The app's database: one engine per process, one session per request.

The engine is made lazily in each process (gunicorn forks its workers; a
connection pool must not cross a fork). Views use :func:`get_session`; the
ingest path (:mod:`webhook.ingest`) uses one Core connection of :attr:`Database.engine`.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from webhook.storage.db import make_engine, make_session_factory

EXTENSION = "grader_db"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._pid = 0
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        return self._ensure()[0]

    def session(self) -> Session:
        return self._ensure()[1]()

    def _ensure(self) -> tuple[Engine, sessionmaker[Session]]:
        pid = os.getpid()
        if self._engine is None or self._factory is None or self._pid != pid:
            with self._lock:
                if self._engine is None or self._factory is None or self._pid != pid:
                    if self._engine is not None:
                        self._engine.dispose(close=False)  # inherited: leave the parent's
                    self._engine = make_engine(self.url, autocheckpoint=False)
                    self._factory = make_session_factory(self._engine)
                    self._pid = pid
        return self._engine, self._factory

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = self._factory = None


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def get_db() -> Database:
    database: Database = current_app.extensions[EXTENSION]
    return database


def get_session() -> Session:
    """The request's session (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = get_db().session()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
