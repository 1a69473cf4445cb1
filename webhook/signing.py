"""Signed deliveries from trusted senders (a CI pipeline posting for a student).

HMAC-SHA256 per Standard Webhooks: headers ``webhook-id``, ``webhook-timestamp``
(Unix seconds) and ``webhook-signature`` (``v1,<base64>`` ...), signed over
``id.timestamp.body`` with the server's ``GRADER_SIGNING_SECRET`` (``whsec_...``).
The student is named by the ``X-Grader-Student: <course slug>/<student id>``
header (send deliveries over TLS: the header is not part of the signature).

Every malformed header is a :class:`SignatureRejected` (→ 401), never a crash;
a timestamp outside the tolerance is refused. This module only checks signatures
and touches no database: refusing a delivery whose id and timestamp were already
accepted (a replay) is a write, done by :func:`webhook.ingest.remember_delivery`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from standardwebhooks import Webhook
from werkzeug.datastructures import Headers

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
STUDENT_HEADER = "X-Grader-Student"
_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SIGNATURE = re.compile(r"^v1[a-z]?,[A-Za-z0-9+/=]{1,200}( v1[a-z]?,[A-Za-z0-9+/=]{1,200}){0,9}$")


class SignatureRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_signed(headers: Mapping[str, str] | Headers) -> bool:
    return any(name in headers for name in HEADERS)


def make_webhook(secret: str) -> Webhook:
    """The verifier for ``secret``; raises ``ValueError`` for an unusable secret."""
    try:
        return Webhook(secret)
    except Exception as exc:
        raise ValueError(f"not a Standard Webhooks secret ({type(exc).__name__})") from exc


def verify(
    webhook: Webhook,
    body: bytes,
    headers: Mapping[str, str] | Headers,
    *,
    tolerance: int,
    now: float | None = None,
) -> tuple[str, int]:
    """Check the signature and timestamp of a delivery; return its (id, timestamp)."""
    values = {name: headers.get(name, "") for name in HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SignatureRejected(f"signed delivery lacks the {missing[0]} header")
    if not _ID.match(values["webhook-id"]):
        raise SignatureRejected("webhook-id is malformed")
    if not _TIMESTAMP.match(values["webhook-timestamp"]):
        raise SignatureRejected("webhook-timestamp is not Unix seconds")
    if not _SIGNATURE.match(values["webhook-signature"]):
        raise SignatureRejected("webhook-signature is malformed")
    timestamp = int(values["webhook-timestamp"])
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureRejected(f"webhook-timestamp is more than {tolerance} s from now (stale)")
    try:
        webhook.verify(body, dict(values), json_parse=False)
    except Exception:  # the library raises ValueError & co. on odd input: all are a 401
        raise SignatureRejected("webhook-signature does not match") from None
    return values["webhook-id"], timestamp
