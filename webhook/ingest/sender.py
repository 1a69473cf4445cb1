"""Step 1 of :mod:`webhook.ingest`: who sends the report, found before its body is read.

A student's own token, an instructor's API token naming a student of one of their
courses, or a signed delivery naming an enrolled student. Reads only; no lock, no write.
"""

from __future__ import annotations

from flask import Request, current_app
from sqlalchemy import Connection, bindparam, select
from standardwebhooks import Webhook

from webhook import signing
from webhook.i18n import N_
from webhook.ingest.outcomes import Forbidden, NotAuthorized, Sender, StudentNotNamed
from webhook.storage.models import Course, CourseInstructor, Instructor, Student
from webhook.storage.tokens import hash_token

_SENDER = select(Student.id, Student.course_id, Student.student_id).join(
    Course, Course.id == Student.course_id
)
_BY_TOKEN = _SENDER.where(Student.token_hash == bindparam("token_hash"))
_BY_ROSTER = _SENDER.where(
    Course.slug == bindparam("slug"), Student.student_id == bindparam("student_id")
)


_INSTRUCTOR_BY_TOKEN = select(Instructor.id, Instructor.username).where(
    Instructor.token_hash == bindparam("token_hash")
)
_TEACHES = (
    select(Course.id)
    .join(CourseInstructor, CourseInstructor.course_id == Course.id)
    .where(Course.slug == bindparam("slug"), CourseInstructor.instructor_id == bindparam("pk"))
)


def sender_by_token(connection: Connection, token: str | None, named: str | None) -> Sender:
    """A student's own token (``named`` absent), or an instructor's naming a student.

    The two kinds of token live in separate tables and never stand in for each other: a
    student's token naming a student is refused (403), and so is an instructor's naming
    no one (400, saying how to name them). The student lookup comes first when no one is
    named: it is the hot path, one indexed probe as before.
    """
    if token is None:
        raise NotAuthorized(N_("send Authorization: Bearer <your token>"), challenge="Bearer")
    if named is None:
        try:
            return student_by_token(connection, token)
        except NotAuthorized:
            if connection.execute(_INSTRUCTOR_BY_TOKEN, {"token_hash": hash_token(token)}).first():
                raise StudentNotNamed(
                    "an instructor's token must name the student: "
                    f"send {signing.STUDENT_HEADER}: <course>/<student id>"
                ) from None
            raise
    instructor = connection.execute(_INSTRUCTOR_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if instructor is None:
        if connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first() is not None:
            raise Forbidden(
                N_(
                    "a student's token cannot name a student ({header} is for "
                    "instructors' API tokens)"
                ).format(header=signing.STUDENT_HEADER)
            )
        raise NotAuthorized(N_("the token is not valid"), challenge='Bearer error="invalid_token"')
    return verified_student(connection, instructor.id, instructor.username, named)


def verified_student(
    connection: Connection, instructor_pk: int, username: str, named: str
) -> Sender:
    """The student ``named`` (``<course>/<student id>``) in a course the instructor teaches.

    A course they do not teach is refused whether it exists or not, so that an
    instructor learns nothing of other courses' rosters.
    """
    slug, slash, roster_id = named.partition("/")
    slug, roster_id = slug.strip(), roster_id.strip()
    if not slash or not slug or not roster_id:
        raise StudentNotNamed(
            f"{signing.STUDENT_HEADER} must be <course>/<student id>, not {named[:80]!r}"
        )
    if connection.execute(_TEACHES, {"slug": slug, "pk": instructor_pk}).first() is None:
        raise Forbidden(
            f"{slug[:64]!r} is not one of {username}'s courses "
            f"(grade-server course add-instructor {slug[:64]} {username})"
        )
    row = connection.execute(_BY_ROSTER, {"slug": slug, "student_id": roster_id}).first()
    if row is None:
        raise Forbidden(f"no student {roster_id[:100]!r} is enrolled in {slug}")
    return Sender(
        row.id,
        row.course_id,
        "instructor",
        None,
        row.student_id,
        source="verified",
        verified_by=username,
    )


def student_by_token(connection: Connection, token: str | None) -> Sender:
    """The student whose token this is (an indexed lookup of its SHA-256)."""
    if token is None:
        raise NotAuthorized(N_("send Authorization: Bearer <your token>"), challenge="Bearer")
    row = connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise NotAuthorized(N_("the token is not valid"), challenge='Bearer error="invalid_token"')
    return Sender(row.id, row.course_id, "token", None, row.student_id)


def signed_student(connection: Connection, body: bytes, request: Request) -> Sender:
    """Verify a signed delivery (see :mod:`webhook.signing`), then find the student it names.

    Whether it is a replay is decided in step 5, in the same transaction that records it.
    """
    config = current_app.config
    secret = config.get("SIGNING_SECRET")
    if not secret:
        raise NotAuthorized("signed deliveries are not enabled on this server")
    try:
        webhook_id, timestamp = signing.verify(
            _verifier(secret), body, request.headers, tolerance=config["SIGNATURE_TOLERANCE"]
        )
    except signing.SignatureRejected as exc:
        raise NotAuthorized(exc.reason) from None
    slug, _, roster_id = request.headers.get(signing.STUDENT_HEADER, "").partition("/")
    params = {"slug": slug.strip(), "student_id": roster_id.strip()}
    row = connection.execute(_BY_ROSTER, params).first()
    if row is None:
        raise NotAuthorized(
            f"{signing.STUDENT_HEADER} must name an enrolled student as <course>/<student id>"
        )
    return Sender(row.id, row.course_id, "signed", (webhook_id, timestamp), row.student_id)


def _verifier(secret: str) -> Webhook:
    """The app's signature verifier, made once (the secret was checked at start-up)."""
    webhook: Webhook | None = current_app.extensions.get("grader_webhook")
    if webhook is None:
        webhook = current_app.extensions["grader_webhook"] = signing.make_webhook(secret)
    return webhook
