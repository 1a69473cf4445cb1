"""Step 5's writes of :mod:`webhook.ingest`: the delivery record, the rate count, the rows.

Every function here runs inside the one write transaction that
:func:`webhook.ingest.record` opens (the rule of locks and transactions is stated there,
once). Every statement is built once, at import, and executed with parameters.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from submissions import integrity
from webhook.crosscheck import budget, copies, shared
from webhook.crosscheck.flags import summary
from webhook.grade_events import report_stored
from webhook.ingest.body import with_bad_evidence
from webhook.ingest.outcomes import NotAuthorized, Ready, Sender, Stored, Verdict
from webhook.storage.models import (
    MAX_MESSAGE_CHARS,
    RAW_KEPT_LATEST,
    Flag,
    RateLimitWindow,
    SignedDelivery,
    Submission,
    SubmissionCheck,
    utcnow,
)

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
    connection: Connection,
    student_pk: int,
    *,
    now: float | None = None,
    scope: str = "student",
    rate: tuple[int, int] | None = None,
) -> Verdict:
    """Count one request for the student (``scope`` ``verified``: an instructor's for
    them, counted apart); within ``GRADER_RATE_LIMIT`` (or ``rate``, another scope's)?"""
    limit, period = current_app.config["RATE_LIMIT_PARSED"] if rate is None else rate
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


# One INSERT ... ON CONFLICT (student_pk, report_id) DO NOTHING RETURNING id decides whether
# the report is new: report ids are unique per student, so another student's use of an id
# never refuses its owner. Its checks follow in one multi-row insert. Two workers storing the
# student's same report id race on the unique constraint; the loser reads the winner's row.
_INSERT_NEW = {
    name: module.insert(Submission)
    .on_conflict_do_nothing(index_elements=["student_pk", "report_id"])
    .returning(Submission.id)
    for name, module in _DIALECTS
}
_EXISTING = select(
    Submission.id, Submission.student_pk, Submission.course_id, Submission.score,
    Submission.max_score, Submission.flagged, Submission.body_sha256, Submission.source,
).where(
    Submission.student_pk == bindparam("student_pk"),
    Submission.report_id == bindparam("report_id"),
)  # fmt: skip
_INSERT_CHECKS = insert(SubmissionCheck)
COPY_REASON = "the very same bytes, sent by the other student first"

_OPEN_KINDS = (
    select(Flag.kind)
    .where(Flag.submission_id == bindparam("submission_id"), Flag.status == "open")
    .order_by(Flag.id)
)


def store(connection: Connection, sender: Sender, ready: Ready) -> Stored:
    """Store the report for the student, or return the one stored under its id before.

    First the cross-check (:func:`webhook.crosscheck.shared.first_shown`, under the locks of the
    report's identifiers), so that the row is written with all its flags; the very same
    bytes as another student's report are a copy (:func:`webhook.crosscheck.copies.first_copy`).
    """
    checked, score, flags, received_at = ready.checked, ready.score, ready.flags, ready.received_at
    report = checked.report
    # The report id is locked too: two copies of one report arriving at once meet.
    locked = checked.keys | {f"report:{report.report_id}"}
    shared.evidence_locks(connection, sender.course_id, locked)
    first = shared.first_shown(connection, sender.course_id, checked.keys)
    verified = sender.source == "verified"
    kept = budget.budgeted(
        connection,
        course_id=sender.course_id,
        student_pk=sender.student_pk,
        keys=checked.keys,
        first=first,
        verified=verified,
    )
    if kept.left_out and "bad_evidence" not in {flag.kind for flag in flags}:
        # past the student's budget of identifiers: said, for the instructor (once a report)
        flags = with_bad_evidence(flags, budget.over_budget(kept.left_out))
    pairs = shared.pairs_of_new(first, sender.student_pk, verified=verified)
    taken = shared.taken_over(first, sender.student_pk, verified=verified)
    matches = shared.taken_reports(connection, sender.course_id, taken)
    firsts = shared.new_firsts(first, sender.student_pk, verified=verified)
    copied = copies.first_copy(
        connection,
        course_id=sender.course_id,
        student_pk=sender.student_pk,
        report_id=report.report_id,
        body_sha256=checked.body_sha256,
        verified=verified,
    )
    if copied is not None:
        copy = shared.PairFlag(copied.student_pk, copied.roster_id, COPY_REASON)
        same_body = [copy]
    else:
        same_body = []
    sentences = (
        [integrity.describe(flag.kind, flag.reason) for flag in flags]
        + [integrity.describe("same_body", p.reason, p.other_roster_id) for p in same_body]
        + [integrity.describe("shared_evidence", p.reason, p.other_roster_id) for p in pairs]
    )
    values = {
        "report_id": report.report_id,
        "student_pk": sender.student_pk,
        "course_id": sender.course_id,
        "assignment_id": ready.assignment_id,
        "rubric_version": ready.rubric_version,
        "received_at": received_at,
        "created": report.created_at,  # parsed by the reader
        "lab": report.lab,
        "score": score.score,
        "max_score": score.max_score,
        "checks_digest": report.checks_digest,
        "grader_version": report.grader_version,
        "engine_id": report.engine_id,
        "raw_xml": checked.raw_xml,
        "flagged": bool(sentences),
        "flag_reason": summary(sentences),
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
    if new_id is None:  # the student's own report id: the report stored under it before
        key = {"report_id": report.report_id, "student_pk": sender.student_pk}
        row = connection.execute(_EXISTING, key).one()
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
                    "message": stored_message(check.message),
                    "hint": "",  # the report's hint is the student's word; not kept
                }
                for check in score.checks
            ],
        )
    shared.record_new(
        connection,
        submission_id=new_id,
        course_id=sender.course_id,
        student_pk=sender.student_pk,
        keys=kept.keys,
        own=flags,
        pairs=pairs,
        same_body=same_body,
        matches=matches,
        first=first,
        firsts=firsts,
        now=received_at,
    )
    # In this transaction: the stored grade, LTI's outbox. The earlier reports it flagged
    # (``matches``) may change their students' grades too, in any assignment.
    report_stored(connection, sender.student_pk, ready.assignment_id)
    for other_pk in sorted({m.student_pk for m in matches} - {sender.student_pk}):
        report_stored(connection, other_pk)
    drop_old_raw(connection, sender.student_pk, received_at)
    kinds = (
        tuple(flag.kind for flag in flags)
        + ("same_body",) * bool(same_body)
        + ("shared_evidence",) * bool(pairs)
    )
    return Stored(
        new_id, report.report_id, score.score, score.max_score, bool(sentences), True, kinds,
        sender.source,
    )  # fmt: skip


def stored_message(message: str) -> str:
    """A check's message as stored: at most :data:`MAX_MESSAGE_CHARS`, cut with an ellipsis.

    The report's hint is not stored at all: what to try next is the lab's to say, and a
    report's own is only the student's word (17 of them made most of a 124 KiB report).
    """
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 1] + "…"


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
_DROP_CHECKS = delete(SubmissionCheck).where(
    SubmissionCheck.submission_id.in_(bindparam("ids", expanding=True))
)


def drop_old_raw(connection: Connection, student_pk: int, now: datetime) -> int:
    """Keep the raw XML and check rows of the student's latest :data:`RAW_KEPT_LATEST`
    reports and of their best (the highest score, the first to reach it); drop the others'
    (their rows, scores, flags and evidence keys kept): a flood grows by rows only.

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
        connection.execute(_DROP_CHECKS, {"ids": ids})
    return len(ids)
