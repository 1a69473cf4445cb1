"""CSRF protection for the gradebook's forms: Flask-WTF's, checked on this blueprint only.

Flask-WTF keeps a random token in the session and puts a signed copy in each form; every
unsafe request of the gradebook must send it back (and, over HTTPS, a same-origin
``Referer``). It is not checked app-wide: the API authenticates with tokens and
signatures, and an LMS's launch is a cross-site POST by design. A refused form is a 400
page saying what to do.
"""

from __future__ import annotations

from flask import Flask, abort
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

FORM_FIELD = "csrf_token"

_protect = CSRFProtect()


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked by :func:`protect`
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # as long as the session lasts
    app.config.setdefault("WTF_CSRF_FIELD_NAME", FORM_FIELD)
    _protect.init_app(app)


def token() -> str:
    """This session's token for a form (templates call it as ``csrf_token()``)."""
    return generate_csrf()


def protect() -> None:
    """Abort with 400 unless an unsafe request carries this session's token."""
    try:
        _protect.protect()
    except CSRFError as exc:
        if exc.description == "The CSRF token is missing.":
            abort(400, description="The form is missing its CSRF token: reload the page and retry.")
        if "referrer" in str(exc.description):
            abort(400, description="The form was not sent from this site's pages (Referer).")
        abort(400, description="The form's CSRF token is stale: reload the page and retry.")
