"""Device cookies: a browser an instructor has logged in from is not locked out by guesses
made elsewhere (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

Every successful login on the form issues a new cookie to that browser: signed with the
server's secret key, naming the instructor and a random id, ``HttpOnly``, ``SameSite=Strict``
(``Secure`` as the session cookie), kept :data:`MAX_AGE`. Each instructor has a cookie of
their own name, so a browser shared by two instructors trusts both.

:func:`webhook.auth.login_instructor` counts failures by who is trying:

- a browser with a valid device cookie for that username: against that cookie only (its own
  lockout, for the window), never against the username nor the address, so an attacker's
  failures from elsewhere cannot block it and its failures block nobody else;
- anyone else (a fresh browser, a cookie of another instructor or tampered with, HTTP basic):
  per username and per address, as before. So a username under attack is closed to untrusted
  clients for the window, and an address guessing at many usernames is closed whatever it tries.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

#: How long a browser stays trusted after a login (each login starts it again).
MAX_AGE = 180 * 24 * 3600
_SALT = "grader-device-cookie"
_PREFIX = "grader_device_"


def cookie_name(username: str) -> str:
    """The device cookie of ``username`` (a digest: the name reveals no username)."""
    digest = hashlib.sha256(_normal(username).encode("utf-8", "replace")).hexdigest()
    return f"{_PREFIX}{digest[:16]}"


def _normal(username: str) -> str:
    return username.strip().casefold()


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def trusted_device(username: str) -> str | None:
    """The id of this browser's device cookie for ``username``, if it has a valid one."""
    value = request.cookies.get(cookie_name(username))
    if not value:
        return None
    try:
        data = _signer().loads(value, max_age=MAX_AGE)
    except BadSignature:  # tampered with, another server's, or expired
        return None
    if not isinstance(data, dict) or data.get("u") != _normal(username):
        return None
    device = data.get("d")
    return device if isinstance(device, str) and device else None


def issue(response: Response, username: str) -> None:
    """Give this browser a new device cookie for ``username`` (after a successful login)."""
    value = _signer().dumps({"u": _normal(username), "d": secrets.token_urlsafe(16)})
    response.set_cookie(
        cookie_name(username),
        value,
        max_age=MAX_AGE,
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Strict",
    )
