"""Ingest: how a report becomes a stored submission, one small function per step.

:func:`receive` runs the steps for ``POST /api/v1/submissions``; :mod:`webhook.api`
only turns its outcome (a :class:`Stored`, or a :class:`Refused` of some kind) into HTTP.

1. Who sends it. A Bearer token's student is found first (:func:`sender_by_token`),
   before the body is read, so a stranger's body is never read or parsed: a student's
   own token (a ``self`` report), or an instructor's API token with ``X-Grader-Student``
   naming a student of one of the courses they teach (:func:`verified_student`: a
   ``verified`` report, stored for that student as verified by the instructor). Neither
   kind of token stands in for the other. A signed delivery's body is read first,
   because its signature covers the body (:func:`signed_student`: verify it, then find
   the student it names; a ``self`` report: a CI pipeline runs what the student pushed).
2. :func:`read_body`: at most the size limit, counted on the bytes actually read.
3. :func:`check_report`: read and check it against the report's dialect (UTF-8, no DTD).
4. :func:`score_from_rubric`: from the server's rubric (the JSON document it scores from,
   :func:`webhook.config.current_rubric`), never from what the report claims; and
   :func:`check_integrity`: what the report's own evidence says about it
   (:func:`submissions.integrity.check_report`: no evidence, ids or times that are not
   Docker's, evidence newer than the report, dated in the future or before the course
   opened). Both only flag: a report the dialect accepts is always stored.
5. :func:`record` (or :func:`record_refused` for a report that failed step 3, which
   counts too): :func:`remember_delivery` for a signed delivery (a replay is refused),
   :func:`count_rate`, :func:`store` the submission, its checks, its evidence keys and
   flags exactly once per report id (after the cross-check with the rest of its course,
   :mod:`webhook.crosscheck`), :func:`drop_old_raw` (the raw XML of the student's reports
   past their latest 50 and their best; scores kept), commit.
6. :func:`checkpoint_after`: every so many stored reports, SQLite's WAL is checkpointed
   once the response has been sent.

A verified report takes every step a student's does: the same size limit, reader,
rubric, per-report integrity checks and cross-check with the course (an instructor's run
on a machine whose engine another student's report names is worth a flag all the same),
the same lock and transaction; only its rate is counted apart (:attr:`Sender.rate_scope`).

**The rule of locks and transactions**, stated here and nowhere else: steps 1-4 hold no
lock and write nothing. Every write of a request (the rate count, the signed-delivery
record, the submission, its checks, evidence keys and flags, and the flags it gives
other students' reports) happens in one transaction on the request's one connection,
inside the write lock (:func:`webhook.storage.db.write_lock`, which queues SQLite's
writers in the kernel instead of busy-sleeping; a no-op on PostgreSQL), and is committed
once (:func:`_one_transaction`). A replay, another student's report id or any error
rolls the whole transaction back; the one exception is another student's report id with
the very same bytes (a copy), whose ``same_body`` flags are committed with the rate count
before the 409. The WAL checkpoint runs after the response is sent, never inside a commit
that other writers wait for. Nothing else writes submissions.

**Where the cross-check reads**: inside that transaction, not in steps 1-4, because two
copies arriving at once must catch each other: the one that looks second must find the
first one's evidence keys. It reads after :func:`webhook.crosscheck.evidence_locks`,
which holds back until the commit every other writer naming one of the report's
identifiers: on SQLite the write lock does that already (writers go one at a time); on
PostgreSQL a transaction-scoped advisory lock per (course, identifier) does, so only
reports that share an identifier (one student's own, in practice) wait for each other.

Every statement on this path is built once, at import, and executed with parameters:
that skips SQLAlchemy's per-call construction and cache-key work (half the cost otherwise).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Request, Response, current_app
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from standardwebhooks import Webhook

from submissions import integrity
from submissions.dialect import Report
from submissions.integrity import Flag as FoundFlag
from submissions.reader import Limits, ReportRejected, parse_created, read_report
from submissions.scoring import Score, score_report
from webhook import crosscheck, signing
from webhook.auth import bearer_token
from webhook.config import current_rubric
from webhook.database import get_db
from webhook.lti.passback import mark_changed as lti_grade_may_change
from webhook.storage.db import checkpoint, write_lock
from webhook.storage.models import (
    RAW_KEPT_LATEST,
    Course,
    CourseInstructor,
    Flag,
    Instructor,
    RateLimitWindow,
    SignedDelivery,
    Student,
    Submission,
    SubmissionCheck,
    utcnow,
)
from webhook.storage.tokens import hash_token

#: Stored reports per process between two WAL checkpoints (SQLite).
CHECKPOINT_EVERY = 10
_stored_count = itertools.count(1)

logger = logging.getLogger(__name__)


# --- Outcomes -------------------------------------------------------------------------------


class Refused(Exception):
    """A request the server does not take; :mod:`webhook.api` gives each kind its status."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAuthorized(Refused):
    """No or a wrong token, a bad or stale signature, a replay, an unknown student (401)."""

    def __init__(self, reason: str, *, challenge: str = "") -> None:
        super().__init__(reason)
        self.challenge = challenge


class TooLarge(Refused):
    """More bytes than ``MAX_REPORT_BYTES`` (413)."""


class BadReport(Refused):
    """Not UTF-8, not well-formed, or outside the report's dialect (400)."""


class Forbidden(Refused):
    """A valid token that may not do this: a student's naming a student, an instructor's
    for a student outside the courses they teach (403)."""


class StudentNotNamed(Refused):
    """An instructor's token without (or with a malformed) ``X-Grader-Student`` (400)."""


class RateLimited(Refused):
    """Over the per-student rate limit (429); ``retry_after`` seconds until the window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many reports; try again later")
        self.retry_after = retry_after


class ReportIdTaken(Refused):
    """The report id is already stored for another student (409).

    ``copy``: with the very same bytes, so both students were flagged ``same_body`` and
    those flags are kept (committed) although the report is refused.
    """

    def __init__(self, report_id: str, *, copy: bool = False) -> None:
        super().__init__(f"report id {report_id!r} is already taken")
        self.copy = copy


@dataclass(frozen=True, slots=True)
class Sender:
    """The student a report is for, and how the request proved it."""

    student_pk: int
    course_id: int
    via: str  # "token" | "signed" | "instructor"
    delivery: tuple[str, int] | None = None  # a signed delivery's (webhook-id, timestamp)
    roster_id: str = ""  # the roster's id, to name the student in other students' flags
    opens_at: datetime | None = None  # when the student's course opened, if it says
    source: str = "self"  # "self" | "verified"
    verified_by: str = ""  # the instructor's username, for a verified report

    @property
    def rate_scope(self) -> str:
        """Verified reports count apart from the student's own, so that neither the
        student nor a TA's run over the whole class can crowd the other out."""
        return "verified" if self.source == "verified" else "student"


@dataclass(frozen=True, slots=True)
class Checked:
    """A report that passed the dialect's checks, with its text kept verbatim."""

    report: Report
    raw_xml: str
    body_sha256: str
    keys: frozenset[str]  # what no two students' reports should share (sharing_keys)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    report_id: str
    score: int
    max_score: int
    flagged: bool
    created: bool  # False: the same report was stored before (an idempotent repeat)
    flags: tuple[str, ...] = ()  # the kinds of its open flags
    source: str = "self"  # "self" | "verified"


# --- The sequence ---------------------------------------------------------------------------


def receive(request: Request) -> Stored:
    """Steps 1-5 for one request, on one connection; raises a :class:`Refused` kind."""
    limit: int = current_app.config["MAX_REPORT_BYTES"]
    declared = request.content_length
    if declared is not None and declared > limit:  # refused before anything is read
        raise TooLarge(f"the report is over the size limit of {limit} bytes")
    received_at = utcnow()
    engine = get_db().engine
    with engine.connect() as connection:
        if signing.is_signed(request.headers):
            body = read_body(request, limit)
            sender = signed_student(connection, body, request)
        else:
            named = request.headers.get(signing.STUDENT_HEADER)
            sender = sender_by_token(connection, bearer_token(request.headers), named)
            body = read_body(request, limit)
        try:
            checked = check_report(body, limit)
        except BadReport:
            record_refused(engine, connection, sender)
            raise
        score = score_from_rubric(checked.report)
        flags = score.flags + check_integrity(checked.report, sender, received_at)
        return record(engine, connection, sender, checked, score, flags, received_at)


# --- Step 1: who sends it -------------------------------------------------------------------

_SENDER = select(Student.id, Student.course_id, Student.student_id, Course.opens_at).join(
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
        raise NotAuthorized("send Authorization: Bearer <your token>", challenge="Bearer")
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
                f"a student's token cannot name a student ({signing.STUDENT_HEADER} is for "
                "instructors' API tokens)"
            )
        raise NotAuthorized("the token is not valid", challenge='Bearer error="invalid_token"')
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
        row.opens_at,
        source="verified",
        verified_by=username,
    )


def student_by_token(connection: Connection, token: str | None) -> Sender:
    """The student whose token this is (an indexed lookup of its SHA-256)."""
    if token is None:
        raise NotAuthorized("send Authorization: Bearer <your token>", challenge="Bearer")
    row = connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise NotAuthorized("the token is not valid", challenge='Bearer error="invalid_token"')
    return Sender(row.id, row.course_id, "token", None, row.student_id, row.opens_at)


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
    return Sender(
        row.id, row.course_id, "signed", (webhook_id, timestamp), row.student_id, row.opens_at
    )


def _verifier(secret: str) -> Webhook:
    """The app's signature verifier, made once (the secret was checked at start-up)."""
    webhook: Webhook | None = current_app.extensions.get("grader_webhook")
    if webhook is None:
        webhook = current_app.extensions["grader_webhook"] = signing.make_webhook(secret)
    return webhook


# --- Step 2: the body -----------------------------------------------------------------------

_BODY_READ = "grader.body_read"


def body_was_read(request: Request) -> bool:
    """Whether :func:`read_body` read this request's body to its end (else some is unread)."""
    return bool(request.environ.get(_BODY_READ))


def read_body(request: Request, limit: int) -> bytes:
    """The request body, reading at most ``limit + 1`` bytes: more means too large.

    Werkzeug would cut a chunked body at ``MAX_CONTENT_LENGTH`` and carry on
    with a truncated report; counting what was really read cannot be fooled.
    """
    too_large = TooLarge(f"the report is over the size limit of {limit} bytes")
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large
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
        raise too_large
    request.environ[_BODY_READ] = True
    return b"".join(chunks)


# --- Steps 3 and 4: check, score and flag (no lock, no write) -------------------------------


def check_report(body: bytes, limit: int) -> Checked:
    """The report in ``body``, checked against the dialect by :mod:`submissions.reader`,
    and against the columns it is stored in (:func:`check_lengths`)."""
    try:
        report = read_report(body, limits=Limits(max_bytes=limit))
        raw_xml = body.decode("utf-8")
    except ReportRejected as exc:
        raise BadReport(exc.reason) from None
    except UnicodeDecodeError:
        raise BadReport("the report is not UTF-8") from None
    check_lengths(report)
    digest = hashlib.sha256(body).hexdigest()
    return Checked(report, raw_xml, digest, integrity.sharing_keys(report))


def _column_length(column: Any) -> int:
    length: int = column.type.length
    return length


#: The report's values and the ``VARCHAR`` columns that hold them (their lengths read from
#: the models, so that they follow the schema). PostgreSQL refuses a longer value with an
#: error (a 500 if it got that far); SQLite would store it. Both answer 400 instead.
_REPORT_COLUMNS = {
    name: _column_length(Submission.__table__.c[name])
    for name in (
        "report_id", "lab", "grader_version", "checks_digest", "engine_id", "dialect_version",
    )
}  # fmt: skip
_CHECK_COLUMNS = {
    "id": _column_length(SubmissionCheck.__table__.c.check_id),
    "task": _column_length(SubmissionCheck.__table__.c.task),
}


def check_lengths(report: Report) -> None:
    """Refuse (400) a value longer than its column, naming it; what is stored is never cut.

    (``engine_name`` and ``engine_version`` are shown only, and cut to fit instead.)
    """
    for name, most in _REPORT_COLUMNS.items():
        value: str = getattr(report, name)
        if len(value) > most:
            raise BadReport(f"the report's {name} is longer than {most} characters")
    for result in report.results:
        for name, most in _CHECK_COLUMNS.items():
            value = getattr(result, name)
            if len(value) > most:
                what = "check id" if name == "id" else f"task of check {result.id[:100]!r}"
                raise BadReport(f"the report's {what} is longer than {most} characters")


def score_from_rubric(report: Report) -> Score:
    """The report's score from the server's rubric; what the report claims does not count."""
    return score_report(report, current_rubric())


def check_integrity(report: Report, sender: Sender, received_at: datetime) -> tuple[FoundFlag, ...]:
    """What the report's own evidence says about it, received now in the sender's course."""
    return integrity.check_report(report, received_at=received_at, opens_at=sender.opens_at)


# --- Step 5: the writes, in one locked transaction ------------------------------------------


@contextmanager
def _one_transaction(engine: Engine, connection: Connection) -> Iterator[None]:
    """The module's rule in code: inside the write lock, committed once, or rolled back."""
    with write_lock(engine):
        try:
            yield
            connection.commit()
        except BaseException:
            connection.rollback()
            raise


def record(
    engine: Engine,
    connection: Connection,
    sender: Sender,
    checked: Checked,
    score: Score,
    flags: tuple[FoundFlag, ...],
    received_at: datetime,
) -> Stored:
    """Remember the delivery, count the request, store the report: one commit."""
    copied: ReportIdTaken | None = None
    with _one_transaction(engine, connection):
        verdict = _admit(connection, sender)
        if verdict.allowed:
            try:
                stored = store(connection, sender, checked, score, flags, received_at)
            except ReportIdTaken as exc:
                if not exc.copy:
                    raise  # rolled back: nothing of it is kept
                copied = exc  # its same_body flags are kept, with the count
    if not verdict.allowed:  # the count (and a delivery's record) are kept
        raise RateLimited(verdict.retry_after)
    if copied is not None:
        raise copied
    return stored


def record_refused(engine: Engine, connection: Connection, sender: Sender) -> None:
    """A report that failed its checks is counted (and a signed one remembered) all the same."""
    with _one_transaction(engine, connection):
        verdict = _admit(connection, sender)
    if not verdict.allowed:
        raise RateLimited(verdict.retry_after)


def _admit(connection: Connection, sender: Sender) -> Verdict:
    if sender.delivery is not None:
        remember_delivery(connection, sender.delivery)
    return count_rate(connection, sender.student_pk, scope=sender.rate_scope)


_DIALECTS = (("postgresql", postgresql), ("sqlite", sqlite))


def _for(statements: dict[str, Any], connection: Connection) -> Any:
    return statements["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]


_REMEMBER = {
    name: module.insert(SignedDelivery).on_conflict_do_nothing().returning(SignedDelivery.timestamp)
    for name, module in _DIALECTS
}
_FORGET_DELIVERIES = delete(SignedDelivery).where(SignedDelivery.timestamp < bindparam("before"))


def remember_delivery(connection: Connection, delivery: tuple[str, int]) -> None:
    """Record a signed delivery, refusing one already seen; forget those past the tolerance."""
    webhook_id, timestamp = delivery
    tolerance: int = current_app.config["SIGNATURE_TOLERANCE"]
    connection.execute(_FORGET_DELIVERIES, {"before": int(time.time()) - 2 * tolerance})
    values = {"webhook_id": webhook_id, "timestamp": timestamp, "received_at": utcnow()}
    if connection.execute(_for(_REMEMBER, connection), values).first() is None:
        raise NotAuthorized(f"delivery {webhook_id!r} was already received (replay)")


# Fixed windows: one row per (key, window), counted up atomically in the database, so
# that every gunicorn worker shares the count (an in-memory limiter would let N workers'
# worth through).
_COUNT = {
    name: module.insert(RateLimitWindow)
    .on_conflict_do_update(
        index_elements=["key", "window"], set_={"count": RateLimitWindow.count + 1}
    )
    .returning(RateLimitWindow.count)
    for name, module in _DIALECTS
}
_FORGET_WINDOWS = delete(RateLimitWindow).where(
    RateLimitWindow.key == bindparam("key"), RateLimitWindow.window < bindparam("window")
)


def count_rate(
    connection: Connection, student_pk: int, *, now: float | None = None, scope: str = "student"
) -> Verdict:
    """Count one request for the student (``scope`` ``verified``: an instructor's for
    them, counted apart); within ``GRADER_RATE_LIMIT``?"""
    limit, period = current_app.config["RATE_LIMIT_PARSED"]
    if limit <= 0:
        return Verdict(True, 0)
    now = time.time() if now is None else now
    window = int(now // period)
    retry_after = max(1, int((window + 1) * period - now))
    params = {"key": f"{scope}:{student_pk}", "window": window, "count": 1}
    hits = connection.execute(_for(_COUNT, connection), params).scalar_one()
    if hits == 1:  # first hit of a new window: forget this key's older ones
        connection.execute(_FORGET_WINDOWS, params)
    return Verdict(hits <= limit, retry_after)


# One INSERT ... ON CONFLICT (report_id) DO NOTHING RETURNING id decides whether the report
# is new; its checks follow in one multi-row insert. Two workers storing the same report id
# race on the unique constraint; the loser sees no row returned and reads the winner's.
_INSERT_NEW = {
    name: module.insert(Submission)
    .on_conflict_do_nothing(index_elements=["report_id"])
    .returning(Submission.id)
    for name, module in _DIALECTS
}
_EXISTING = select(
    Submission.id, Submission.student_pk, Submission.course_id, Submission.score,
    Submission.max_score, Submission.flagged, Submission.body_sha256, Submission.source,
).where(Submission.report_id == bindparam("report_id"))  # fmt: skip
_INSERT_CHECKS = insert(SubmissionCheck)
_OPEN_KINDS = (
    select(Flag.kind)
    .where(Flag.submission_id == bindparam("submission_id"), Flag.status == "open")
    .order_by(Flag.id)
)


def store(
    connection: Connection,
    sender: Sender,
    checked: Checked,
    score: Score,
    flags: tuple[FoundFlag, ...],
    received_at: datetime,
) -> Stored:
    """Store the report for the student, or return the one stored under its id before.

    First the cross-check (:func:`webhook.crosscheck.shared_with`, under the locks of the
    report's identifiers), so that the row is written with all its flags. Raises
    :class:`ReportIdTaken` when another student's submission has that id.
    """
    report = checked.report
    crosscheck.evidence_locks(connection, sender.course_id, checked.keys)
    matches = crosscheck.shared_with(connection, sender.course_id, sender.student_pk, checked.keys)
    pairs = crosscheck.pairs_of_new(matches)
    sentences = [integrity.describe(flag.kind, flag.reason) for flag in flags] + [
        integrity.describe("shared_evidence", pair.reason, pair.other_roster_id) for pair in pairs
    ]
    values = {
        "report_id": report.report_id,
        "student_pk": sender.student_pk,
        "course_id": sender.course_id,
        "received_at": received_at,
        "created": parse_created(report.created),
        "lab": report.lab,
        "score": score.score,
        "max_score": score.max_score,
        "checks_digest": report.checks_digest,
        "grader_version": report.grader_version,
        "engine_id": report.engine_id,
        "raw_xml": checked.raw_xml,
        "flagged": bool(sentences),
        "flag_reason": crosscheck.summary(sentences),
        "via": sender.via,
        "rejected": False,
        "body_sha256": checked.body_sha256,
        "dialect_version": report.dialect_version,
        "engine_name": report.engine_name[:200],
        "engine_version": report.engine_version[:100],
        "source": sender.source,
        "verified_by": sender.verified_by,
    }
    new_id = connection.execute(_for(_INSERT_NEW, connection), values).scalar()
    if new_id is None:
        row = connection.execute(_EXISTING, {"report_id": report.report_id}).one()
        if row.student_pk != sender.student_pk:
            copy = row.body_sha256 == checked.body_sha256 and crosscheck.copied_body(
                connection,
                stored=row,
                sender_pk=sender.student_pk,
                course_id=sender.course_id,
                report_id=report.report_id,
                now=received_at,
            )
            raise ReportIdTaken(report.report_id, copy=copy)
        kinds = tuple(connection.scalars(_OPEN_KINDS, {"submission_id": row.id}))
        return Stored(
            row.id, report.report_id, row.score, row.max_score, row.flagged, False, kinds,
            row.source,
        )  # fmt: skip
    if score.checks:
        connection.execute(
            _INSERT_CHECKS,
            [
                {
                    "submission_id": new_id,
                    "check_id": check.check_id,
                    "task": check.task,
                    "status": check.status,
                    "points": check.points,
                    "max_points": check.max_points,
                    "message": check.message,
                    "hint": check.hint,
                }
                for check in score.checks
            ],
        )
    crosscheck.record_new(
        connection,
        submission_id=new_id,
        course_id=sender.course_id,
        student_pk=sender.student_pk,
        keys=checked.keys,
        own=flags,
        pairs=pairs,
        matches=matches,
        now=received_at,
    )
    lti_grade_may_change(connection, sender.student_pk)  # the LTI passback outbox (issue 12)
    drop_old_raw(connection, sender.student_pk, received_at)
    kinds = tuple(flag.kind for flag in flags) + ("shared_evidence",) * bool(pairs)
    return Stored(
        new_id, report.report_id, score.score, score.max_score, bool(sentences), True, kinds,
        sender.source,
    )  # fmt: skip


# The student's reports that still keep their raw XML, newest first: one short range of the
# partial index ix_submission_raw_kept (about RAW_KEPT_LATEST + 1 rows, however many reports).
_RAW_KEPT = (
    select(Submission.id, Submission.score, Submission.dialect_version)
    .where(Submission.student_pk == bindparam("student_pk"), Submission.raw_dropped_at.is_(None))
    .order_by(Submission.id.desc())
)
_DROP_RAW = (
    update(Submission)
    .where(Submission.id.in_(bindparam("ids", expanding=True)))
    .values(raw_xml="", raw_dropped_at=bindparam("now"))
)


def drop_old_raw(connection: Connection, student_pk: int, now: datetime) -> int:
    """Keep the raw XML of the student's latest :data:`RAW_KEPT_LATEST` reports and of their
    best (the highest score, the first to reach it); empty the others' (scores kept).

    The best report always keeps its XML, so the best among those that keep it is the
    student's best: no scan of their whole history. Reports stored before the integrity
    checks (dialect ``""``) keep theirs until a recheck has read them.
    """
    rows = connection.execute(_RAW_KEPT, {"student_pk": student_pk}).all()
    if len(rows) <= RAW_KEPT_LATEST:
        return 0
    best = max(rows, key=lambda row: (row.score, -row.id)).id
    ids = [row.id for row in rows[RAW_KEPT_LATEST:] if row.id != best and row.dialect_version]
    if ids:
        connection.execute(_DROP_RAW, {"ids": ids, "now": now})
    return len(ids)


# --- Step 6: after the response -------------------------------------------------------------


def checkpoint_after(response: Response) -> None:
    """Every :data:`CHECKPOINT_EVERY` stored reports, checkpoint once the response is sent.

    The server's SQLite engine never checkpoints inside a commit (see
    :func:`webhook.storage.db.make_engine`); this is where it happens instead.
    """
    if next(_stored_count) % CHECKPOINT_EVERY == 0:
        response.call_on_close(functools.partial(_checkpoint, get_db().engine))


def _checkpoint(engine: Engine) -> None:
    try:
        checkpoint(engine)
    except Exception as exc:  # a later one will do; never fail a response for it
        logger.warning("WAL checkpoint failed: %s", exc)
