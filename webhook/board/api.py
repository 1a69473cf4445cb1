"""The board's JSON API: a student's progress in, the board's data out.

``POST /api/v1/progress`` with ``Authorization: Bearer <student token>`` (as a report) and a
progress document (:mod:`.document`, ``application/json``). Answers: 200 taken
(``{"changed": true|false}``); 400 not a progress document; 401 no or a wrong token; 403
``forbidden`` an instructor's API token (progress is a student's own), or
**``progress_off``**: the assignment does not take progress (its instructor has not turned
it on; ``grade --watch`` stops sending and goes on working); 404 no such assignment of the
lab in the student's course; 413 over :data:`~.document.MAX_BYTES`; 415 not JSON; 429 over
the per-student progress rate (``GRADER_PROGRESS_RATE_LIMIT``, default 40/minute: ``grade``
sends at most one every few seconds), with ``Retry-After``. A refusal writes nothing but the
rate count.

``GET /api/v1/courses/<course>/assignments/<slug>/board``: the board's data (:mod:`.data`)
for an instructor of the course (:mod:`webhook.access`): their login (the gradebook's
session, as the board page polls it, or HTTP basic auth), or their API token
(``Authorization: Bearer``), which may read this and nothing else. A student's token is
refused (403); a course the instructor may not see answers 404 like none. The answer has an
``ETag``; ``If-None-Match`` with it answers 304 with no body while nothing changed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select

from webhook.access import courses_visible_to
from webhook.api import error
from webhook.auth import bearer_token, current_instructor, unauthorized
from webhook.board import data, store
from webhook.board.document import MAX_BYTES, BadProgress, parse
from webhook.config import parse_rate_limit
from webhook.database import get_db, get_session
from webhook.i18n import N_
from webhook.ingest.body import read_body
from webhook.ingest.outcomes import NoAssignment, NotAuthorized, TooLarge
from webhook.ingest.route import assignment_for
from webhook.ingest.sender import student_by_token
from webhook.ingest.store import count_rate
from webhook.storage.db import not_durable, write_lock
from webhook.storage.models import Assignment, Course, Instructor, utcnow
from webhook.storage.tokens import hash_token

bp = Blueprint("board_api", __name__, url_prefix="/api/v1")

DEFAULT_PROGRESS_RATE_LIMIT = "40/minute"
#: The board's clock (epoch seconds): who is stuck is judged by it.
clock = time.time


def init_app(app: Flask) -> None:
    app.config.setdefault("PROGRESS_RATE_LIMIT", DEFAULT_PROGRESS_RATE_LIMIT)
    app.config["PROGRESS_RATE_LIMIT_PARSED"] = parse_rate_limit(
        app.config["PROGRESS_RATE_LIMIT"], source="GRADER_PROGRESS_RATE_LIMIT"
    )
    app.register_blueprint(bp)


def _over() -> str:
    return N_("the progress document is over {most} bytes").format(most=MAX_BYTES)


@bp.post("/progress")
def progress() -> Any:
    """A student's progress: checked, then stored in their one row (:mod:`.store`)."""
    declared = request.content_length
    if declared is not None and declared > MAX_BYTES:
        return error(413, "too_large", _over())
    if request.mimetype != "application/json":
        return error(415, "unsupported_media_type", N_("send the progress as application/json"))
    engine = get_db().engine
    with engine.connect() as connection:
        token = bearer_token()
        try:
            sender = student_by_token(connection, token)
        except NotAuthorized as exc:
            if _instructor_by_token(token) is not None:
                return error(403, "forbidden", N_("progress is sent with a student's own token"))
            return unauthorized(exc.reason, challenge=exc.challenge)
        try:
            document = parse(read_body(request, MAX_BYTES))
            filed = assignment_for(connection, sender.course_id, document.lab, document.assignment)
        except TooLarge:
            return error(413, "too_large", _over())
        except BadProgress as exc:
            return error(400, "bad_progress", str(exc))
        except NoAssignment as exc:
            return error(404, "no_assignment", exc.reason)
        taken, _ = store.setting(connection, filed.id)
    if not taken:
        return error(
            403,
            "progress_off",
            N_(
                "assignment {slug} does not take progress (its instructor has not turned"
                " the class board on); your work and reports are not affected"
            ).format(slug=filed.slug),
        )
    rate = current_app.config["PROGRESS_RATE_LIMIT_PARSED"]
    # One transaction under the write lock, as every writer; an error rolls it back (the
    # connection closes uncommitted). Not fsynced before answering: the next post replaces it.
    with engine.connect() as connection, write_lock(engine):
        verdict = count_rate(connection, sender.student_pk, scope="progress", rate=rate)
        if verdict.allowed:
            changed = store.record(
                connection, filed.id, sender.student_pk, document.checks, utcnow()
            )
        connection.commit()
        not_durable()
    if not verdict.allowed:
        return error(
            429, "rate_limited", N_("too much progress; try again later"),
            **{"Retry-After": str(verdict.retry_after)},
        )  # fmt: skip
    return {"changed": changed}


@bp.get("/courses/<course>/assignments/<slug>/board")
def board(course: str, slug: str) -> Any:
    """The board's data for the course's instructors, with an ETag."""
    instructor = current_instructor()
    token = bearer_token()
    if instructor is None and token is not None:
        instructor = _instructor_by_token(token)
        if instructor is None:
            with get_db().engine.connect() as connection:
                try:
                    student_by_token(connection, token)
                except NotAuthorized:
                    return unauthorized("the token is not valid", challenge="Bearer")
            return error(403, "forbidden", "a student's token cannot read the class board")
    if instructor is None:
        return unauthorized("log in as an instructor, or send an instructor's API token")
    session = get_session()
    found = session.scalar(
        select(Assignment)
        .join(Course, Course.id == Assignment.course_id)
        .where(Course.slug == course, Assignment.slug == slug, courses_visible_to(instructor))
    )
    if found is None:
        return error(404, "not_found", f"no assignment {slug[:64]!r} in a course of yours")
    now = clock()
    with get_db().engine.connect() as connection:
        taken, stuck_minutes = store.setting(connection, found.id)
        etag = data.fingerprint(connection, found, (taken, stuck_minutes), now)
        if etag in request.if_none_match:  # nothing changed: no document built, no body
            response = Response(status=304)
            response.set_etag(etag)
            return response
        document = data.board(connection, found, course, stuck_minutes, taken, now)
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    return response


def _instructor_by_token(token: str | None) -> Instructor | None:
    if token is None:
        return None
    return get_session().scalar(
        select(Instructor).where(Instructor.token_hash == hash_token(token))
    )
