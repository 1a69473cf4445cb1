"""Signed deliveries from trusted senders (a CI pipeline posting for a student).

HMAC-SHA256 per Standard Webhooks: headers ``webhook-id``, ``webhook-timestamp``
(Unix seconds) and ``webhook-signature`` (``v1,<base64>`` ...), with the server's
``GRADER_SIGNING_SECRET`` (``whsec_...``, at least 24 bytes once decoded).

The student is part of what is signed: the signed payload is the ``X-Grader-Student``
header's value (``<course slug>/<student id>``), a line feed, then the body, i.e.
``Webhook(secret).sign(id, timestamp, f"{student}\\n{body}")``. A delivery without the
header, or signed over the body alone, is refused; so a delivery cannot be sent again
naming another student, whether it was accepted or refused the first time.

Every malformed header is a :class:`SignatureRejected` (→ 401), never a crash. The
timestamp is checked here against ``GRADER_SIGNATURE_TOLERANCE`` (the library's own
``verify`` fixes 5 minutes, so the signature is compared here, with the library's
``sign``). This module touches no database: refusing a delivery whose id and timestamp
were already accepted (a replay) is a write, done by :func:`webhook.ingest.store.remember_delivery`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook
from werkzeug.datastructures import Headers

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
STUDENT_HEADER = "X-Grader-Student"
#: The shortest secret accepted (bytes, once decoded): an HMAC key is guessed offline.
MIN_SECRET_BYTES = 24
_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SIGNATURE = re.compile(r"^v1[a-z]?,[A-Za-z0-9+/=]{1,200}( v1[a-z]?,[A-Za-z0-9+/=]{1,200}){0,9}$")
_STUDENT = re.compile(r"^[^/\x00-\x1f\x7f]{1,200}/[^\x00-\x1f\x7f]{1,200}$")


class SignatureRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_signed(headers: Mapping[str, str] | Headers) -> bool:
    return any(name in headers for name in HEADERS)


def make_webhook(secret: str) -> Webhook:
    """The signer for ``secret``; raises ``ValueError`` for an unusable or short secret."""
    try:
        webhook = Webhook(secret)
    except Exception as exc:
        raise ValueError(f"not a Standard Webhooks secret ({type(exc).__name__})") from exc
    length = len(_secret_bytes(secret))
    if length < MIN_SECRET_BYTES:
        raise ValueError(
            f"the secret is {length} bytes, at least {MIN_SECRET_BYTES} are needed "
            '(make one with: python -c "import base64, os; '
            "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\")"
        )
    return webhook


def _secret_bytes(secret: str) -> bytes:
    """The key the library uses: base64 after ``whsec_`` (decoded as it decodes it)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_") + "==")
    except (binascii.Error, ValueError):
        return b""


def signed_payload(student: str, body: bytes) -> str:
    """What a sender signs: the student it names, a line feed, then the body (UTF-8)."""
    return f"{student}\n{body.decode('utf-8')}"


def verify(
    webhook: Webhook,
    body: bytes,
    headers: Mapping[str, str] | Headers,
    *,
    tolerance: int,
    now: float | None = None,
) -> tuple[str, int]:
    """Check the signature (over the student and the body) and the timestamp of a
    delivery; return its (id, timestamp)."""
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
    student = headers.get(STUDENT_HEADER, "") or ""
    if not _STUDENT.match(student):
        raise SignatureRejected(
            f"a signed delivery names its student in {STUDENT_HEADER}: <course>/<student id>"
        )
    timestamp = int(values["webhook-timestamp"])
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureRejected(f"webhook-timestamp is more than {tolerance} s from now (stale)")
    try:
        payload = signed_payload(student, body)
    except UnicodeDecodeError:
        raise SignatureRejected("the body of a signed delivery must be UTF-8") from None
    try:
        moment = datetime.fromtimestamp(timestamp, tz=UTC)
    except (OverflowError, OSError, ValueError):  # past year 9999 with a huge tolerance
        raise SignatureRejected("webhook-timestamp is out of range") from None
    expected = webhook.sign(values["webhook-id"], moment, payload).encode()
    sent = [s.encode() for s in values["webhook-signature"].split(" ") if s.startswith("v1,")]
    if not any(hmac.compare_digest(expected, signature) for signature in sent):
        raise SignatureRejected(
            f"webhook-signature does not match (it signs {STUDENT_HEADER}, a line feed and "
            "the body)"
        )
    return values["webhook-id"], timestamp
