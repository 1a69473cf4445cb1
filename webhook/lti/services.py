"""Calls to the platform's services (AGS, NRPS) through pylti1p3, with two fixes.

* Access tokens are kept until their ``expires_in`` (less a margin), per registration
  and scopes, for the whole process: pylti1p3 keeps them per connector only, so each
  score would cost a token request.
* Every request has a time limit (pylti1p3 sets none): a platform that never answers
  costs :data:`REQUEST_TIMEOUT` seconds, then the outbox tries again later.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import requests
from pylti1p3.exception import LtiServiceException
from pylti1p3.registration import Registration
from pylti1p3.service_connector import REQUESTS_USER_AGENT, ServiceConnector

REQUEST_TIMEOUT = 10.0
TOKEN_MARGIN = 30  # seconds before expires_in that a token is no longer used

AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


class TimedSession(requests.Session):
    """A requests session whose every request has a time limit."""

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__()
        self.timeout = REQUEST_TIMEOUT if timeout is None else timeout
        self.headers["User-Agent"] = REQUESTS_USER_AGENT

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class CachedTokenConnector(ServiceConnector):
    """pylti1p3's service connector, with access tokens shared until they expire."""

    def __init__(self, registration: Registration, timeout: float | None = None) -> None:
        super().__init__(registration, requests_session=TimedSession(timeout))

    def get_access_token(self, scopes: Sequence[str]) -> str:
        registration = self._registration
        auth_url = registration.get_auth_token_url() or ""
        key = (auth_url, registration.get_client_id() or "", " ".join(sorted(scopes)))
        now = time.monotonic()
        with _TOKENS_LOCK:
            cached = _TOKENS.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        client_id = str(registration.get_client_id())
        claims: dict[str, str | int] = {
            "iss": client_id,
            "sub": client_id,
            "aud": registration.get_auth_audience() or auth_url,
            "iat": int(time.time()) - 5,
            "exp": int(time.time()) + 60,
            "jti": "lti-service-token-" + str(uuid.uuid4()),
        }
        kid = registration.get_kid()
        private_key = registration.get_tool_private_key()
        if private_key is None:
            raise LookupError("the tool has no key: run `grade-server lti key generate`")
        assertion = self.encode_jwt(claims, private_key, {"kid": kid} if kid else {})
        answer = self._requests_session.post(
            auth_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(scopes),
            },
        )
        if not answer.ok:
            raise LtiServiceException(answer)
        body = answer.json()
        token = str(body["access_token"])
        lifetime = max(0, int(body.get("expires_in", 3600)) - TOKEN_MARGIN)
        with _TOKENS_LOCK:
            _TOKENS[key] = (token, now + lifetime)
        return token


def forget_tokens() -> None:
    """Drop every cached access token (a registration changed; tests)."""
    with _TOKENS_LOCK:
        _TOKENS.clear()
