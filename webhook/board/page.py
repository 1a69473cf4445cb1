"""The board page, ``/gradebook/<course>/a/<slug>/board``: the class at a glance, live.

Server-rendered once (the frame, the course scoping of :mod:`webhook.access`, the login of
the gradebook); then ``board.js`` asks the board's JSON (:mod:`.api`) every
:data:`POLL_SECONDS` seconds with ``If-None-Match``: a poll that finds nothing new is a 304
with no body, one short request on a worker that is free again at once. Why polling and not
Server-Sent Events: docs/server.md, "The class board". The page's own script is its only
one, from this server (its Content-Security-Policy allows nothing else).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, url_for
from sqlalchemy import select

from webhook.access import require_course
from webhook.auth import current_instructor
from webhook.board import store
from webhook.database import get_db, get_session
from webhook.gradebook import csrf, login_required
from webhook.storage.models import Assignment

bp = Blueprint(
    "board",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/board/static",
)

#: How often the page asks for the board's data: a step shows within this and a request.
POLL_SECONDS = 2

# As the gradebook's pages, and this page's one script and its requests to this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf.token, "instructor": current_instructor()}


@bp.route("/gradebook/<course>/a/<slug>/board")
@login_required
def board_page(course: str, slug: str) -> Any:
    """The frame of the board; its data comes from the JSON API, polled."""
    found = require_course(course)
    assignment = get_session().scalar(
        select(Assignment).where(Assignment.course_id == found.id, Assignment.slug == slug)
    )
    if assignment is None:
        abort(404)
    with get_db().engine.connect() as connection:
        taken, stuck_minutes = store.setting(connection, assignment.id)
    data_url = url_for("board_api.board", course=found.slug, slug=assignment.slug)
    page = render_template(
        "board/board.html",
        course=found,
        assignment=assignment,
        taken=taken,
        stuck_minutes=stuck_minutes,
        data_url=data_url,
        poll_ms=POLL_SECONDS * 1000,
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
