"""A per-student rate limit whose counts live in the database, shared by all workers.

Fixed windows: one row per (key, window) counted up atomically with an
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite >= 3.35 and
PostgreSQL alike). An in-memory limiter would count per gunicorn worker and so
let N workers' worth of requests through. :func:`count` runs in the caller's
transaction (the ingest counts and stores in one commit); :func:`hit` in its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Connection, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from webhook.database import get_db
from webhook.storage.db import write_lock
from webhook.storage.models import RateLimitWindow

# Built once and executed with parameters (this is on every report's path).
_UPSERTS = {
    name: module.insert(RateLimitWindow)
    .on_conflict_do_update(
        index_elements=["key", "window"], set_={"count": RateLimitWindow.count + 1}
    )
    .returning(RateLimitWindow.count)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
_FORGET = delete(RateLimitWindow).where(
    RateLimitWindow.key == bindparam("key"), RateLimitWindow.window < bindparam("window")
)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


def init_app(app: Flask) -> None:
    app.extensions["grader_rate_limit"] = app.config["RATE_LIMIT_PARSED"]


def count(connection: Connection, key: str, *, now: float | None = None) -> Verdict:
    """Count one request for ``key`` in the caller's transaction; within the limit?"""
    limit, period = current_app.extensions["grader_rate_limit"]
    if limit <= 0:
        return Verdict(True, 0)
    now = time.time() if now is None else now
    window = int(now // period)
    retry_after = max(1, int((window + 1) * period - now))
    upsert = _UPSERTS["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    params = {"key": key, "window": window, "count": 1}
    hits = connection.execute(upsert, params).scalar_one()
    if hits == 1:  # first hit of a new window: forget this key's older ones
        connection.execute(_FORGET, params)
    return Verdict(hits <= limit, retry_after)


def hit(key: str, *, now: float | None = None) -> Verdict:
    """Count one request for ``key`` in a transaction of its own."""
    engine = get_db().engine
    with write_lock(engine), engine.begin() as connection:
        return count(connection, key, now=now)
