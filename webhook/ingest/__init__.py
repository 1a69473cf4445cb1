"""Ingest: how a report becomes a stored submission, one small function per step.

:func:`receive` runs the steps for ``POST /api/v1/submissions``, in order, here;
:mod:`webhook.api` only turns its outcome (a :class:`Stored`, or a :class:`Refused` of
some kind) into HTTP. Each step is a small function in the module of its kind:
:mod:`~webhook.ingest.sender` (step 1), :mod:`~webhook.ingest.body` (steps 2-4, no lock
and no write), :mod:`~webhook.ingest.store` (the writes of step 5); the values they pass
on are :mod:`~webhook.ingest.outcomes`. The one transaction those writes share is opened
here (:func:`record`), by the rule below.

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
   Then :func:`assignment_for` (:mod:`~webhook.ingest.route`): the course's assignment of
   the report's lab, where it is filed (none: refused, 404, and counted like a bad report).
4. :func:`score_from_rubric`: from that assignment's newest rubric version (the JSON
   document stored with it, read by :func:`assignment_for`'s same query), never from
   what the report claims; and
   :func:`check_integrity`: what the report's own evidence says about it
   (:func:`submissions.integrity.check_report`: no evidence, ids or times that are not
   Docker's, evidence newer than the report, dated in the future or before the
   assignment opened, a hash of a file the lab gives that the assignment's rubric does not
   know, an engine id no engine gives). Both only flag: a report the dialect accepts is
   always stored.
5. :func:`record` (or :func:`record_refused` for a report that failed step 3, which
   counts too), here, runs the writes of :mod:`~webhook.ingest.store`:
   :func:`remember_delivery` for a signed delivery (a replay is refused),
   :func:`count_rate`, :func:`store` the submission, its checks, its evidence keys and
   flags exactly once per report id (after the cross-check with the rest of its course,
   :mod:`webhook.crosscheck`), :func:`drop_old_raw` (the raw XML of the student's reports
   past their latest 50 and their best; scores kept), commit.
6. :func:`checkpoint_after`: every so many stored reports, SQLite's WAL is checkpointed
   once the response has been sent.

A verified report takes every step a student's does: the same size limit, reader,
rubric, per-report integrity checks and cross-check with the course (a verified report
goes before every self-reported one: another student's self-reported report naming the
same machine is the later one, flagged; a student's copy never holds a verified grade back),
the same lock and transaction; only its rate is counted apart (:attr:`Sender.rate_scope`).

**The rule of locks and transactions**, stated here and nowhere else: steps 1-4 hold no
lock and write nothing. Every write of a request (the rate count, the signed-delivery
record, the submission, its checks, evidence keys and flags, and the flags it gives
other students' reports) happens in one transaction on the request's one connection,
inside the write lock (:func:`webhook.storage.db.write_lock`, which queues SQLite's
writers in the kernel instead of busy-sleeping; a no-op on PostgreSQL), and is committed
once (:func:`_one_transaction`). A replay or any error rolls the whole transaction back.
Report ids are unique per student: another student's report id is no refusal (the very
same bytes are a copy, flagged ``same_body``). The WAL checkpoint runs after the response
is sent, never inside a commit that other writers wait for. Nothing else writes submissions.

**Where the cross-check reads**: inside that transaction, not in steps 1-4, because two
copies arriving at once must catch each other: the one that looks second must find the
first one's evidence keys. It reads after :func:`webhook.crosscheck.shared.evidence_locks`,
which holds back until the commit every other writer naming one of the report's
identifiers: on SQLite the write lock does that already (writers go one at a time); on
PostgreSQL a transaction-scoped advisory lock per (course, identifier) does, so only
reports that share an identifier (one student's own, in practice) wait for each other.

Every statement on this path is built once, at import, and executed with parameters:
that skips SQLAlchemy's per-call construction and cache-key work (half the cost otherwise).
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Request, Response, current_app
from sqlalchemy import Connection, Engine

from webhook import signing
from webhook.auth import bearer_token
from webhook.database import get_db
from webhook.i18n import N_
from webhook.ingest.body import (
    check_integrity,
    check_report,
    read_body,
    score_from_rubric,
)
from webhook.ingest.outcomes import (
    BadReport,
    Forbidden,
    NoAssignment,
    NotAuthorized,
    RateLimited,
    Ready,
    Refused,
    Sender,
    Stored,
    StudentNotNamed,
    TooLarge,
    Verdict,
)
from webhook.ingest.route import ASSIGNMENT_HEADER, assignment_for
from webhook.ingest.sender import sender_by_token, signed_student
from webhook.ingest.store import count_rate, remember_delivery, store
from webhook.storage.db import checkpoint, write_lock
from webhook.storage.models import utcnow

#: What :mod:`webhook.api` uses: the sequence, the check after it, and the kinds of refusal
#: it answers with their HTTP statuses.
__all__ = [
    "BadReport",
    "Forbidden",
    "NoAssignment",
    "NotAuthorized",
    "RateLimited",
    "Refused",
    "Stored",
    "StudentNotNamed",
    "TooLarge",
    "checkpoint_after",
    "receive",
]

#: Stored reports per process between two WAL checkpoints (SQLite).
CHECKPOINT_EVERY = 10
_stored_count = itertools.count(1)

logger = logging.getLogger(__name__)


# --- The sequence ---------------------------------------------------------------------------


def receive(request: Request) -> Stored:
    """Steps 1-5 for one request, on one connection; raises a :class:`Refused` kind."""
    limit: int = current_app.config["MAX_REPORT_BYTES"]
    declared = request.content_length
    if declared is not None and declared > limit:  # refused before anything is read
        raise TooLarge(N_("the report is over the size limit of {limit} bytes").format(limit=limit))
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
        try:
            filed = assignment_for(
                connection,
                sender.course_id,
                checked.report.lab,
                request.headers.get(ASSIGNMENT_HEADER),
            )
        except NoAssignment:
            record_refused(engine, connection, sender)
            raise
        score = score_from_rubric(checked.report, filed.rubric)
        flags = score.flags + check_integrity(
            checked.report, filed.rubric, filed.opens_at, received_at
        )
        ready = Ready(checked, score, flags, received_at, filed.id, filed.version)
        return record(engine, connection, sender, ready)


# --- Step 5: the writes, in one locked transaction ------------------------------------------


@contextmanager
def _one_transaction(engine: Engine, connection: Connection) -> Iterator[None]:
    """The package's rule in code: inside the write lock, committed once, or rolled back."""
    with write_lock(engine):
        try:
            yield
            connection.commit()
        except BaseException:
            connection.rollback()
            raise


def record(engine: Engine, connection: Connection, sender: Sender, ready: Ready) -> Stored:
    """Remember the delivery, count the request, store the report: one commit."""
    with _one_transaction(engine, connection):
        verdict = _admit(connection, sender)
        if verdict.allowed:
            stored = store(connection, sender, ready)
    if not verdict.allowed:  # the count (and a delivery's record) are kept
        raise RateLimited(verdict.retry_after)
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
