"""Launch nonces and state in the database, so that every worker sees the same ones.

pylti1p3 keeps them in the Flask session or a per-process cache by default; behind
gunicorn a launch then lands on a worker that never saw its nonce ("Invalid Nonce").
:class:`DatabaseLaunchStorage` is its cache interface on the ``lti_cache`` table, and
:class:`DatabaseSessionService` uses a nonce up: the first launch that shows it takes it
(one ``DELETE`` that only one worker can win), so a replayed id_token is refused.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy import Engine, delete, insert, select

from webhook.lti.models import LtiCacheEntry
from webhook.storage.db import write_transaction
from webhook.storage.models import utcnow

DEFAULT_LIFETIME = 3600


class DatabaseLaunchStorage(LaunchDataStorage[Any]):
    """pylti1p3's launch data storage on the ``lti_cache`` table (JSON values, expiry)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(LtiCacheEntry.value).where(
                    LtiCacheEntry.key == self._prepare_key(key),
                    LtiCacheEntry.expires_at > utcnow(),
                )
            ).first()
        return None if row is None else json.loads(row.value)

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        key = self._prepare_key(key)
        expires_at = utcnow() + timedelta(seconds=exp or DEFAULT_LIFETIME)
        with write_transaction(self.engine) as connection:
            connection.execute(delete(LtiCacheEntry).where(LtiCacheEntry.key == key))
            connection.execute(
                insert(LtiCacheEntry).values(
                    key=key, value=json.dumps(value), expires_at=expires_at
                )
            )

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None

    def take_value(self, key: str) -> bool:
        """Remove ``key``; whether it was there and unexpired (only one caller wins)."""
        key = self._prepare_key(key)
        with write_transaction(self.engine) as connection:
            taken = connection.execute(
                delete(LtiCacheEntry).where(
                    LtiCacheEntry.key == key, LtiCacheEntry.expires_at > utcnow()
                )
            ).rowcount
        return bool(taken)

    def purge_expired(self) -> int:
        with write_transaction(self.engine) as connection:
            return int(
                connection.execute(
                    delete(LtiCacheEntry).where(LtiCacheEntry.expires_at <= utcnow())
                ).rowcount
            )


class DatabaseSessionService(FlaskSessionService):
    """pylti1p3's session service on :class:`DatabaseLaunchStorage`, nonces used once."""

    def __init__(self, request: Any, storage: DatabaseLaunchStorage) -> None:
        super().__init__(request)
        self.set_data_storage(storage)
        storage.set_request(request)

    def check_nonce(self, nonce: str) -> bool:
        storage = self.data_storage
        assert isinstance(storage, DatabaseLaunchStorage)
        return storage.take_value(self._get_key("nonce", nonce))
