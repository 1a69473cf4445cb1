"""The JSON API: students' (and trusted senders') reports in, submissions out.

The HTTP layer only: routes, status codes, JSON errors. How a report becomes a
row (and the lock and transaction rule of that path) is :mod:`webhook.ingest`.

``POST /api/v1/submissions`` takes a JUnit report (``application/xml`` or
``text/xml``) with ``Authorization: Bearer <student token>``, or an instructor's
API token and ``X-Grader-Student: <course>/<student id>`` (a verified report), or
signed per Standard Webhooks (see :mod:`webhook.signing`). Answers: 201 stored; 200
the same report id again (the same submission, never a duplicate); 400 bad XML or
a report outside the dialect, or an instructor's token naming no student; 401 no or
a wrong token or signature; 403 a student's token naming a student, or an
instructor's for a student outside their courses; 413 over the size limit (counted on
the bytes actually read, chunked bodies included); 415 another content type;
429 over the per-student rate limit; 503 the database is unavailable.

A request refused before its body is needed (401, 403, 413 by its ``Content-Length``,
415) is answered at once, without reading the body. The unread rest never holds a worker,
on each server the docs name: gunicorn's sync workers close the connection after every
answer (``Connection: close``, sent by gunicorn) without reading on, and waitress
(``grade-server run``) and nginx (``deploy/nginx``) have read the whole body, bounded,
before the app runs. The app itself sends no ``Connection`` header: it is hop-by-hop,
which PEP 3333 forbids a WSGI app, and waitress answers 500 for it (issue 20).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from submissions.integrity import describe
from webhook import ingest
from webhook.access import may_see
from webhook.auth import (
    bearer_token,
    current_instructor,
    current_student,
    is_instructor_token,
    unauthorized,
)
from webhook.config import check_hint
from webhook.database import get_session
from webhook.i18n import N_
from webhook.i18n import reason as translated
from webhook.storage.late_marks import late_marks
from webhook.storage.models import MAX_ROW_ID, Flag, Submission

bp = Blueprint("api", __name__, url_prefix="/api/v1")

XML_TYPES = ("application/xml", "text/xml")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def error(status: int, code: str, reason: str, **headers: str) -> Any:
    response = jsonify(error=code, reason=translated(reason))
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.post("/submissions")
def submit() -> Any:
    """A report in: :func:`webhook.ingest.receive` does the work, this says how it went."""
    mimetype = request.mimetype
    if mimetype not in XML_TYPES:
        said = N_("send the report as application/xml, not {mimetype}")
        reason = said.format(mimetype=mimetype or "nothing")
        return error(415, "unsupported_media_type", reason)
    try:
        stored = ingest.receive(request)
    except ingest.NotAuthorized as exc:
        return unauthorized(exc.reason, challenge=exc.challenge)
    except ingest.Forbidden as exc:
        return error(403, "forbidden", exc.reason)
    except ingest.StudentNotNamed as exc:
        return error(400, "student_required", exc.reason)
    except ingest.TooLarge as exc:
        return error(413, "too_large", exc.reason)
    except ingest.BadReport as exc:
        return error(400, "bad_report", exc.reason)
    except ingest.NoAssignment as exc:
        return error(404, "no_assignment", exc.reason)
    except ingest.RateLimited as exc:
        return error(429, "rate_limited", exc.reason, **{"Retry-After": str(exc.retry_after)})
    response = jsonify(
        id=stored.id,
        report_id=stored.report_id,
        score=stored.score,
        max_score=stored.max_score,
        flagged=stored.flagged,
        flags=list(stored.flags),
        source=stored.source,
    )
    response.status_code = 201 if stored.created else 200
    if stored.created:
        response.headers["Location"] = f"/api/v1/submissions/{stored.id}"
    ingest.checkpoint_after(response)
    return response


@bp.get("/submissions/<int:submission_id>")
def show(submission_id: int) -> Any:
    session = get_session()
    instructor = current_instructor() if bearer_token() is None else None
    student = current_student() if instructor is None else None
    if instructor is None and student is None:
        if is_instructor_token(bearer_token()):
            # An API token sends verified reports, nothing else; it never reads as a student.
            return error(
                403, "forbidden", "an instructor's API token only sends reports: log in to read"
            )
        return unauthorized("send a student's Bearer token or an instructor's login")
    submission = session.get(Submission, submission_id) if submission_id <= MAX_ROW_ID else None
    # Another student's submission, or one of a course the instructor does not teach, is
    # answered like a missing one: nothing leaks.
    if (
        submission is None
        or (student is not None and submission.student_pk != student.id)
        or (instructor is not None and not may_see(session, instructor, submission.course_id))
    ):
        return error(404, "not_found", f"no submission {submission_id} for you")
    return jsonify(submission_json(submission, for_instructor=instructor is not None))


def submission_json(submission: Submission, *, for_instructor: bool = True) -> dict[str, Any]:
    """A submission as the API shows it; a student sees their flags without other names."""
    course = submission.student.course
    return {
        "id": submission.id,
        "report_id": submission.report_id,
        "course": course.slug,
        "student_id": submission.student.student_id,
        "received_at": submission.received_at.isoformat(),
        "created": submission.created.isoformat(),
        "lab": submission.lab,
        "score": submission.score,
        "max_score": submission.max_score,
        "checks_digest": submission.checks_digest,
        "grader_version": submission.grader_version,
        "engine_id": submission.engine_id,
        "flagged": submission.flagged,
        "flag_reason": submission.flag_reason if for_instructor else _said(submission, False),
        "rejected": submission.rejected,
        "late": _late(submission),
        "flags": [_flag_json(flag, for_instructor) for flag in _flags(submission)],
        "dialect_version": submission.dialect_version,
        "engine_name": submission.engine_name,
        "engine_version": submission.engine_version,
        "via": submission.via,
        "source": submission.source,
        "verified_by": submission.verified_by or None,
        "checks": [
            {
                "id": check.check_id,
                "task": check.task,
                "status": check.status,
                "points": check.points,
                "max_points": check.max_points,
                "message": check.message,
                "hint": check_hint(check.check_id, check.status, check.hint),
            }
            for check in submission.checks
        ],
    }


def _late(submission: Submission) -> bool:
    """Late as the student's grade judges it (their extension, the report's own date)."""
    marks = late_marks(get_session(), submission.course_id, submission.student_pk, [submission])
    return marks[submission.id]


def _flags(submission: Submission) -> list[Flag]:
    query = select(Flag).where(Flag.submission_id == submission.id).order_by(Flag.id)
    return list(get_session().scalars(query))


def _flag_json(flag: Flag, for_instructor: bool) -> dict[str, Any]:
    """A flag: its kind, reason and status; the other student and the decision for
    instructors only (a student learns that they share evidence, not with whom)."""
    other = flag.other_student.student_id if flag.other_student and for_instructor else None
    shown: dict[str, Any] = {
        "kind": flag.kind,
        "reason": describe(flag.kind, flag.reason, other),
        "status": flag.status,
    }
    if for_instructor:
        shown |= {
            "id": flag.id,
            "other_student": other,
            "decided_by": flag.decided_by or None,
            "decided_at": flag.decided_at.isoformat() if flag.decided_at else None,
            "note": flag.note,
        }
    return shown


def _said(submission: Submission, for_instructor: bool) -> str:
    """The open flags in one line, as this viewer may read them."""
    sentences = [
        _flag_json(flag, for_instructor)["reason"]
        for flag in _flags(submission)
        if flag.status == "open"
    ]
    return "; ".join(sentences)


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def database_unavailable(exc: Exception) -> Any:
    """The database is down, locked for too long or not migrated: try again later (503).

    A client's outbox keeps the report and sends it again; nothing is half-stored.
    """
    current_app.logger.error("database unavailable: %s", exc)
    return error(503, "unavailable", "the database is unavailable; try again later",
                 **{"Retry-After": "5"})  # fmt: skip
