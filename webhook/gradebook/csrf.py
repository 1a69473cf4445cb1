"""CSRF protection for the gradebook's forms: a random token kept in the session.

The token is made once per session and checked on every unsafe request of the
blueprint; a form without it, or with another, is refused with 400. The
session cookie is signed, so a cross-site page can neither read nor forge it.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

SESSION_KEY = "gradebook_csrf"
FORM_FIELD = "csrf_token"


def token() -> str:
    """This session's token, made on first use (templates call it as ``csrf_token()``)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    return value


def protect() -> None:
    """Abort with 400 unless an unsafe request carries this session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(SESSION_KEY)
    sent = request.form.get(FORM_FIELD, "")
    if not isinstance(expected, str) or not expected or not sent:
        abort(400, description="The form is missing its CSRF token: reload the page and retry.")
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, description="The form's CSRF token is stale: reload the page and retry.")
