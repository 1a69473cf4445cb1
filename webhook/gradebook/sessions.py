"""The gradebook's login and logout pages, and where a login may send the browser next.

The password check, the guess throttle and the session itself are :mod:`webhook.auth`'s;
this module only speaks HTML. ``next`` is followed only when it is a path on this site:
anything a browser could read as another host (``//host``, ``/\\host``, a tab or a line
break that browsers drop) falls back to the gradebook.

The two views are the gradebook blueprint's ``gradebook.login`` and ``gradebook.logout``,
routed by :mod:`webhook.gradebook` (this module does not import it back).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.urls import iri_to_uri

from webhook import devices
from webhook.auth import current_instructor, login_instructor, login_session, logout_session

#: One path on this site: a single leading slash, then no backslash.
_SAME_SITE_PATH = re.compile(r"^/(?![/\\])[^\\]*$")
#: The longest ``next`` followed (a gradebook URL is far shorter).
MAX_NEXT = 2000


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this site, else the gradebook."""
    if target and len(target) <= MAX_NEXT and _SAME_SITE_PATH.match(target) and _visible(target):
        return iri_to_uri(target.replace(" ", "%20"))
    return url_for("gradebook.index")


def _visible(target: str) -> bool:
    """No control, format or separator character but the space (browsers drop some)."""
    return not any(unicodedata.category(c)[0] in "CZ" and c != " " for c in target)


def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        device = devices.trusted_device(username) if username else None
        instructor = (
            login_instructor(username, password, device=device) if username and password else None
        )
        if instructor is not None:
            login_session(instructor)  # a fresh session: no fixation
            response = redirect(next_url)
            devices.issue(response, instructor.username)  # a new one at each login
            return response
        flash("Wrong username or password.", "error")
        return render_template("gradebook/login.html", next=next_url, username=username), 401
    if current_instructor() is not None:
        return redirect(next_url)
    return render_template("gradebook/login.html", next=next_url, username="")


def logout() -> Any:
    """End the session on the server too: the old cookie no longer logs anyone in."""
    logout_session()
    flash("You are logged out.", "info")
    return redirect(url_for("gradebook.login"))
