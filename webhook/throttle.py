"""Password guessing, bounded: failed logins counted per username and per client address
(or, for a browser the instructor logged in from before, per device cookie:
:mod:`webhook.devices`), and a server-wide cap on how many password hashes run at once.

Why our own and not Flask-Limiter: its storage shared by every gunicorn worker is Redis,
Memcached or MongoDB (the ``limits`` package has no SQL storage), and the default install
has none of them; an in-memory limiter would let each worker's worth of guesses through.
The counts live in the ``rate_limit_window`` table the report rate limit already uses
(fixed windows, one row per key and window), so every worker shares them on SQLite and
PostgreSQL alike.

The check comes before the hash: a throttled guess costs one indexed read, not ~70 ms
of CPU. The hashes that do run take one of :data:`HASHING_SLOTS` file locks in the
instance folder, so that however many workers are guessed at, the others keep a core
for students' reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.exceptions import TooManyRequests

from webhook.storage.db import write_transaction
from webhook.storage.models import RateLimitWindow

#: Password hashes that may run at once on the whole server (all workers).
HASHING_SLOTS = max(1, (os.cpu_count() or 2) // 2)
#: How long a login waits for a hashing slot before it is told to retry: short, because a
#: waiting request holds a gunicorn worker that a student's report could have had.
HASHING_WAIT = 0.0


class Throttled(Exception):
    """Too many failed logins (or hashes under way): answer 429 with ``Retry-After``."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after

    def as_http(self) -> TooManyRequests:
        return TooManyRequests(description=self.reason)


@dataclass(frozen=True)
class Window:
    index: int
    retry_after: int


def login_keys(username: str, address: str, device: str | None = None) -> tuple[str, ...]:
    """The counters a failed login adds to: its username's and its client's, or only its
    device cookie's when the browser carries a valid one (:mod:`webhook.devices`)."""
    if device is not None:
        return (f"login-device:{device[:60]}",)
    user = hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()
    return f"login-user:{user[:40]}", f"login-addr:{address[:60]}"


def _window(period: int, now: float | None) -> Window:
    now = time.time() if now is None else now
    index = int(now // period)
    return Window(index, max(1, int((index + 1) * period - now)))


_FAILURES = select(func.max(RateLimitWindow.count)).where(
    RateLimitWindow.key.in_(bindparam("keys", expanding=True)),
    RateLimitWindow.window == bindparam("window"),
)


def check(
    engine: Engine, keys: tuple[str, ...], *, limit: int, period: int, now: float | None = None
) -> None:
    """Raise :class:`Throttled` when any of ``keys`` has ``limit`` failures this window."""
    if limit <= 0:
        return
    window = _window(period, now)
    with engine.connect() as connection:
        failures = connection.execute(_FAILURES, {"keys": list(keys), "window": window.index})
        worst = failures.scalar() or 0
    if worst >= limit:
        raise Throttled(
            f"too many failed logins: wait {window.retry_after} s and try again",
            window.retry_after,
        )


_COUNT = {
    name: module.insert(RateLimitWindow).on_conflict_do_update(
        index_elements=["key", "window"], set_={"count": RateLimitWindow.count + 1}
    )
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
_FORGET = delete(RateLimitWindow).where(
    RateLimitWindow.key.in_(bindparam("keys", expanding=True)),
    RateLimitWindow.window < bindparam("window"),
)


def record_failure(
    engine: Engine, keys: tuple[str, ...], *, limit: int, period: int, now: float | None = None
) -> None:
    """Count one failed login against each of ``keys`` (older windows are forgotten)."""
    if limit <= 0:
        return
    window = _window(period, now)
    with write_transaction(engine) as connection:
        statement = _COUNT["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
        for key in keys:
            connection.execute(statement, {"key": key, "window": window.index, "count": 1})
        connection.execute(_FORGET, {"keys": list(keys), "window": window.index})


@contextlib.contextmanager
def hashing_slot(
    instance: str, *, slots: int = HASHING_SLOTS, wait: float = HASHING_WAIT
) -> Iterator[None]:
    """Hold one of the server's ``slots`` while a password hash runs, else :class:`Throttled`.

    The slots are ``flock``'d files in the instance folder, shared by every worker
    (a lock dies with its process). ``slots=0``, or no writable instance folder: no bound.
    """
    handles = _open_slots(Path(instance), slots)
    if not handles:
        yield
        return
    deadline = time.monotonic() + wait
    try:
        while True:
            for handle in handles:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                return
            if time.monotonic() > deadline:
                raise Throttled("the server is busy checking passwords: try again", 1)
            time.sleep(0.01)
    finally:
        for handle in handles:
            os.close(handle)


def _open_slots(folder: Path, slots: int) -> list[int]:
    handles: list[int] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for slot in range(slots):
            # read-only and world-readable: a slot file made by root still locks for the server
            path = folder / f".hashing-{slot}.lock"
            handles.append(os.open(path, os.O_RDONLY | os.O_CREAT, 0o644))
    except OSError:
        for handle in handles:
            os.close(handle)
        return []
    return handles
