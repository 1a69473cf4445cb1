"""Who may frame the tool's pages: the registered platforms' origins, nobody else.

The launch page shows a student's token; a page any site could frame is open to
clickjacking and to being shown inside a look-alike. So ``frame-ancestors`` lists the
origins (scheme, host, port) of each registered platform's issuer and OIDC login URL, and
those it was registered with (``--frame-origin``, for an LMS whose course pages are on
another host: hosted Canvas), and is ``'none'`` when no platform is registered (or the
database cannot say).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from webhook.lti.models import LtiRegistration

_HOST = re.compile(r"^[A-Za-z0-9.-]+$")


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or ``None`` (nothing CSP could misread)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not _HOST.match(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def frame_ancestors(session: Session) -> str:
    """The ``frame-ancestors`` sources: every registered platform's origins, or ``'none'``."""
    try:
        columns = (LtiRegistration.issuer, LtiRegistration.auth_login_url)
        rows = session.execute(select(*columns, LtiRegistration.frame_origins))
        found = {origin(url) for *urls, more in rows for url in (*urls, *more.split())}
    except SQLAlchemyError:
        session.rollback()
        return "'none'"
    origins = sorted(o for o in found if o)
    return " ".join(origins) if origins else "'none'"
