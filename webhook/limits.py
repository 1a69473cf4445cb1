"""A per-student rate limit whose counts live in the database, shared by all workers.

Fixed windows: one row per (key, window) counted up atomically with an
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite ≥ 3.35 and
PostgreSQL alike). An in-memory limiter would count per gunicorn worker and so
let N workers' worth of requests through.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from submissions.storage.models import RateLimitWindow


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


def init_app(app: Flask) -> None:
    app.extensions["grader_rate_limit"] = app.config["RATE_LIMIT_PARSED"]


def hit(session: Session, key: str, *, now: float | None = None) -> Verdict:
    """Count one request for ``key`` and say whether it is within the limit."""
    limit, period = current_app.extensions["grader_rate_limit"]
    if limit <= 0:
        return Verdict(True, 0)
    now = time.time() if now is None else now
    window = int(now // period)
    retry_after = max(1, int((window + 1) * period - now))
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(RateLimitWindow)
        .values(key=key, window=window, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window"],
            set_={"count": RateLimitWindow.count + 1},
        )
        .returning(RateLimitWindow.count)
    )
    count = session.execute(statement).scalar_one()
    if count == 1:  # first hit of a new window: forget this key's older ones
        session.execute(
            delete(RateLimitWindow).where(
                RateLimitWindow.key == key, RateLimitWindow.window < window
            )
        )
    session.commit()
    return Verdict(count <= limit, retry_after)
