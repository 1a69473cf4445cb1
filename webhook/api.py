"""The JSON API: students' (and trusted senders') reports in, submissions out.

``POST /api/v1/submissions`` takes a JUnit report (``application/xml`` or
``text/xml``) with ``Authorization: Bearer <student token>``, or signed per
Standard Webhooks (see :mod:`webhook.signing`). Answers: 201 stored; 200 the
same report id again (the same submission, never a duplicate); 400 bad XML or
a report outside the dialect; 401 no or a wrong token or signature; 409 a
report id another student already used; 413 over the size limit (counted on
the bytes actually read, chunked bodies included); 415 another content type;
429 over the per-student rate limit; 503 the database is unavailable.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from submissions.reader import Limits, ReportRejected, read_report
from submissions.scoring import score_report
from webhook import limits, signing
from webhook.auth import bearer_token, current_instructor, current_student, unauthorized
from webhook.config import current_rubric
from webhook.database import get_db, get_session
from webhook.ingest import ReportIdTaken, store_submission
from webhook.storage.db import write_lock
from webhook.storage.models import Course, Student, Submission
from webhook.storage.tokens import hash_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")

XML_TYPES = ("application/xml", "text/xml")


class TooLarge(Exception):
    pass


def error(status: int, code: str, reason: str, **headers: str) -> Any:
    response = jsonify(error=code, reason=reason)
    response.status_code = status
    response.headers.update(headers)
    return response


def read_body(limit: int) -> bytes:
    """The request body, reading at most ``limit + 1`` bytes: more means too large.

    Werkzeug would cut a chunked body at ``MAX_CONTENT_LENGTH`` and carry on
    with a truncated report; counting what was really read cannot be fooled.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise TooLarge
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise TooLarge
    return b"".join(chunks)


def _signed_student(session: Session, body: bytes) -> Student | Any:
    secret = current_app.config.get("SIGNING_SECRET")
    if not secret:
        return unauthorized("signed deliveries are not enabled on this server", challenge="")
    tolerance = current_app.config["SIGNATURE_TOLERANCE"]
    webhook = current_app.extensions.get("grader_webhook")
    if webhook is None:
        webhook = current_app.extensions["grader_webhook"] = signing.make_webhook(secret)
    try:
        webhook_id, timestamp = signing.verify(webhook, body, request.headers, tolerance=tolerance)
    except signing.SignatureRejected as exc:
        return unauthorized(exc.reason, challenge="")
    named = request.headers.get(signing.STUDENT_HEADER, "")
    slug, _, roster_id = named.partition("/")
    student = session.scalar(
        select(Student)
        .join(Course)
        .where(Course.slug == slug.strip(), Student.student_id == roster_id.strip())
    )
    if student is None:
        return unauthorized(
            f"{signing.STUDENT_HEADER} must name an enrolled student as <course>/<student id>",
            challenge="",
        )
    try:
        signing.remember_delivery(session, webhook_id, timestamp, tolerance=tolerance)
    except signing.SignatureRejected as exc:
        return unauthorized(exc.reason, challenge="")
    return student


def too_many(verdict: limits.Verdict) -> Any:
    return error(
        429, "rate_limited", "too many reports; try again later",
        **{"Retry-After": str(verdict.retry_after)},
    )  # fmt: skip


_BY_TOKEN = select(Student.id, Student.course_id).where(
    Student.token_hash == bindparam("token_hash")
)


@bp.post("/submissions")
def submit() -> Any:
    mimetype = request.mimetype
    if mimetype not in XML_TYPES:
        reason = f"send the report as application/xml, not {mimetype or 'nothing'}"
        return error(415, "unsupported_media_type", reason)
    # One connection for the whole request: the token's lookup, then (after the
    # body is read and checked, with no lock held meanwhile) the count and the
    # store in the same transaction, committed once.
    engine = get_db().engine
    with engine.connect() as connection:
        return _submit(engine, connection)


def _submit(engine: Engine, connection: Connection) -> Any:
    limit = current_app.config["MAX_REPORT_BYTES"]
    over = f"the report is over the size limit of {limit} bytes"
    signed = signing.is_signed(request.headers)
    if signed:
        try:
            body = read_body(limit)
        except TooLarge:
            return error(413, "too_large", over)
        found = _signed_student(get_session(), body)
        if not isinstance(found, Student):
            return found
        student_pk, course_id = found.id, found.course_id
    else:
        token = bearer_token()
        if token is None:
            return unauthorized("send Authorization: Bearer <your token>", challenge="Bearer")
        row = connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
        if row is None:
            return unauthorized("the token is not valid", challenge='Bearer error="invalid_token"')
        student_pk, course_id = row.id, row.course_id
        try:
            body = read_body(limit)
        except TooLarge:
            return error(413, "too_large", over)
    key = f"student:{student_pk}"
    try:
        report = read_report(body, limits=Limits(max_bytes=limit))
        raw_xml = body.decode("utf-8")
    except (ReportRejected, UnicodeDecodeError) as exc:
        connection.rollback()
        verdict = limits.hit(key)  # bad reports count too
        if not verdict.allowed:
            return too_many(verdict)
        reason = exc.reason if isinstance(exc, ReportRejected) else "the report is not UTF-8"
        return error(400, "bad_report", reason)
    score = score_report(report, current_rubric())
    with write_lock(engine):
        try:
            verdict = limits.count(connection, key)
            if not verdict.allowed:
                connection.rollback()
                return too_many(verdict)
            stored = store_submission(
                connection,
                student_pk=student_pk,
                course_id=course_id,
                report=report,
                score=score,
                raw_xml=raw_xml,
                via="signed" if signed else "token",
            )
            connection.commit()
        except ReportIdTaken:
            connection.rollback()
            return error(409, "conflict", f"report id {report.report_id!r} is already taken")
        except BaseException:
            connection.rollback()
            raise
    response = jsonify(
        id=stored.id,
        report_id=stored.report_id,
        score=stored.score,
        max_score=stored.max_score,
        flagged=stored.flagged,
    )
    response.status_code = 201 if stored.created else 200
    if stored.created:
        response.headers["Location"] = f"/api/v1/submissions/{stored.id}"
    database = get_db()
    if database.wrote():
        response.call_on_close(database.checkpoint)
    return response


@bp.get("/submissions/<int:submission_id>")
def show(submission_id: int) -> Any:
    session = get_session()
    instructor = current_instructor() if bearer_token() is None else None
    student = current_student() if instructor is None else None
    if instructor is None and student is None:
        return unauthorized("send a student's Bearer token or an instructor's login")
    submission = session.get(Submission, submission_id)
    # Another student's submission is answered like a missing one: nothing leaks.
    if submission is None or (student is not None and submission.student_pk != student.id):
        return error(404, "not_found", f"no submission {submission_id} for you")
    return jsonify(submission_json(submission))


def submission_json(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "report_id": submission.report_id,
        "course": submission.student.course.slug,
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
        "flag_reason": submission.flag_reason,
        "via": submission.via,
        "checks": [
            {
                "id": check.check_id,
                "task": check.task,
                "status": check.status,
                "points": check.points,
                "max_points": check.max_points,
                "message": check.message,
                "hint": check.hint,
            }
            for check in submission.checks
        ],
    }


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def database_unavailable(exc: Exception) -> Any:
    """The database is down, locked for too long or not migrated: try again later (503).

    A client's outbox keeps the report and sends it again; nothing is half-stored.
    """
    current_app.logger.error("database unavailable: %s", exc)
    return error(503, "unavailable", "the database is unavailable; try again later",
                 **{"Retry-After": "5"})  # fmt: skip


@bp.after_request
def drain_body(response: Any) -> Any:
    """Read what is left of the body (bounded) before answering early.

    Closing a socket with unread input makes the kernel send a reset, and the
    client may then lose the 4xx it was being sent.
    """
    budget = 16 * current_app.config["MAX_REPORT_BYTES"]
    try:
        stream = request.stream
        while budget > 0:
            chunk = stream.read(min(65536, budget))
            if not chunk:
                break
            budget -= len(chunk)
    except Exception:  # a client that went away: nothing left to protect
        pass
    return response
