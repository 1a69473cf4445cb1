"""Grade passback through AGS: a durable outbox, one row per LMS-bound student.

**Marking.** Whatever may change a student's course grade (a stored report, a decided
flag) says so through :func:`webhook.grade_events.notify_grade_changed`, inside its own
transaction; :func:`mark_changed`, the listener LTI registers (:func:`register`), marks
their row ``dirty`` there (one indexed ``UPDATE``, nothing for a student the LMS does not
know), so a change is never lost, and ingest pays one statement; its batch form
(:func:`mark_many_changed`, for :func:`webhook.grade_events.assignment_changed`) marks a
rescore's hundreds of students in a statement per :data:`MARK_CHUNK`.

**Sending** (:func:`run_once`, by the worker thread of each server process or by
``grade-server lti passback``): a due row is *claimed* first (one conditional ``UPDATE``
that only one worker can win, with a lease), then each of the student's assignment grades
is computed as the CSV export computes it (:func:`webhook.lti.grades.student_grades`) and
sent to that assignment's line item (:mod:`webhook.lti.lineitems`) only when it differs
from the last one the LMS acknowledged (:class:`~webhook.lti.models.LtiScore`'s
``sent_grade``): never twice for the same grade. A failure (the LMS down, slow past the
time limit, a 4xx/5xx) keeps the row due, with back-off (:func:`backoff`), and its error
shown in the gradebook. A worker that dies mid-send leaves a claim whose lease runs out,
and the row is taken again.

Scores carry ``activityProgress: Completed`` and ``gradingProgress: FullyGraded`` (Moodle
ignores other values), a timestamp strictly later than the last one sent for the student
and line item, with microseconds (Moodle answers 409 to an equal one), and Canvas's
submission extension with ``new_submission: false`` (each new submission uses up an
attempt in Canvas).

**A retry is the same score.** A send that failed (a timeout above all: the LMS may have
taken the score and answered too late), or whose process was lost before it recorded the
answer (each send is written down as ``sending`` first, and the row's lease runs out), is
retried with the same grade *and the same timestamp*, so that it can never show in the LMS
as a second, newer submission; a 409 to that retry (AGS: a score not newer than the one the
platform holds is refused) means the first attempt arrived, and the row is delivered. A
grade that changed in between is a new score, with a new timestamp.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from sqlalchemy import Connection, Engine, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from webhook import grade_events
from webhook.lti import lineitems
from webhook.lti.grades import student_grades
from webhook.lti.models import LtiContext, LtiMember, LtiPassback, LtiScore
from webhook.lti.services import CachedTokenConnector
from webhook.lti.toolconf import DatabaseToolConf
from webhook.storage.assignments import newest_rubric
from webhook.storage.db import make_session_factory, write_transaction
from webhook.storage.models import Assignment, Student, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than the three requests of a send, each time-limited
MAX_BACKOFF = 600.0
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"

_MARK = (
    update(LtiPassback)
    .where(LtiPassback.student_pk == bindparam("pk"))
    .values(dirty=True, next_try_at=bindparam("now"))
)


def mark_changed(connection: Connection, student_pk: int) -> None:
    """The grade of ``student_pk`` may have changed: send it (part of the caller's
    transaction; a no-op for a student the LMS does not know)."""
    connection.execute(_MARK, {"pk": student_pk, "now": utcnow()})


#: Students marked by one statement of :func:`mark_many_changed`: a bound parameter each,
#: well under every database's limit (SQLite's 32,766, PostgreSQL's 65,535).
MARK_CHUNK = 1000


def mark_many_changed(connection: Connection, student_pks: Collection[int]) -> None:
    """:func:`mark_changed` for many students at once, one ``UPDATE`` per :data:`MARK_CHUNK`
    of them (a rescore's hundreds of changed grades, without a round trip each)."""
    pks = sorted(set(student_pks))
    now = utcnow()
    for start in range(0, len(pks), MARK_CHUNK):
        connection.execute(
            update(LtiPassback)
            .where(LtiPassback.student_pk.in_(pks[start : start + MARK_CHUNK]))
            .values(dirty=True, next_try_at=now)
        )


def register(app: Flask) -> None:
    """Send the grades that may have changed: listen to :mod:`webhook.grade_events`."""
    grade_events.add_listener(app, mark_changed, batch=mark_many_changed)


def backoff(attempts: int) -> float:
    """Seconds before try ``attempts + 1``: 2, 4, 8 ... up to ten minutes."""
    return float(min(MAX_BACKOFF, 2.0 ** max(1, attempts)))


def next_timestamp(last: datetime | None, now: datetime) -> datetime:
    """``now``, or a microsecond after the last timestamp sent, whichever is later."""
    if last is not None and now <= last:
        return last + timedelta(microseconds=1)
    return now


@dataclass(frozen=True)
class Outcome:
    student_pk: int
    sent: int | None  # the grade sent, if one was
    error: str = ""
    assignment: str = ""  # the assignment's slug


BATCH = 25  # rows claimed in one transaction


class InFlight:
    """How many requests this process is serving: the worker thread lets them go first."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def begin(self) -> None:
        with self._lock:
            self._count += 1

    def end(self) -> None:
        with self._lock:
            self._count -= 1

    def wait_idle(self, at_most: float) -> None:
        """Wait (up to ``at_most`` seconds) until no request is being served."""
        deadline = time.monotonic() + at_most
        while self._count > 0 and time.monotonic() < deadline:
            time.sleep(YIELD_STEP)


YIELD_STEP = 0.005
#: The longest a send waits for the process's requests: a burst of reports slows the
#: passback down to ten scores a second per process, never stops it.
MAX_YIELD = 0.1


def run_once(
    engine: Engine, *, limit: int = 500, requests: InFlight | None = None
) -> list[Outcome]:
    """Claim and send every due row (at most ``limit``); what happened to each of their
    assignments.

    With ``requests`` (the worker thread's), each student's sends first let the process's
    requests in flight finish (up to :data:`MAX_YIELD`): ingest goes first (one Python
    process runs one thread at a time)."""
    now = utcnow()
    with engine.connect() as connection:
        due = connection.scalars(
            select(LtiPassback.student_pk)
            .where(
                or_(
                    LtiPassback.dirty,
                    LtiPassback.status == "error",
                    LtiPassback.claim != "",
                ),
                LtiPassback.next_try_at <= now,
                or_(LtiPassback.claimed_until.is_(None), LtiPassback.claimed_until < now),
            )
            .order_by(LtiPassback.next_try_at)
            .limit(limit)
        ).all()
    outcomes: list[Outcome] = []
    factory = make_session_factory(engine)
    services: dict[int, AssignmentsGradesService] = {}  # per context, for this round
    for start in range(0, len(due), BATCH):
        claim, claimed = _claim(engine, due[start : start + BATCH])
        for student_pk in claimed:
            if requests is not None:
                requests.wait_idle(MAX_YIELD)
            with factory() as session:
                outcomes.extend(_process(engine, session, student_pk, claim, services))
    return outcomes


def _claim(engine: Engine, student_pks: Sequence[int]) -> tuple[str, list[int]]:
    """Claim those of ``student_pks`` no other worker holds: one short transaction."""
    claim = uuid.uuid4().hex
    now = utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            update(LtiPassback)
            .where(
                LtiPassback.student_pk.in_(student_pks),
                or_(LtiPassback.claimed_until.is_(None), LtiPassback.claimed_until < now),
            )
            .values(claim=claim, claimed_until=now + LEASE, dirty=False)
        )
        won = connection.scalars(
            select(LtiPassback.student_pk).where(LtiPassback.claim == claim)
        ).all()
    return claim, list(won)


def _finish(engine: Engine, student_pk: int, claim: str, **values: Any) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(LtiPassback)
            .where(LtiPassback.student_pk == student_pk, LtiPassback.claim == claim)
            .values(claim="", claimed_until=None, **values)
        )


def _process(
    engine: Engine,
    session: Session,
    student_pk: int,
    claim: str,
    services: dict[int, AssignmentsGradesService],
) -> list[Outcome]:
    """Send each of the student's assignment grades that the LMS does not have yet, then
    release their row: due again after the back-off if one failed."""
    row = session.get(LtiPassback, student_pk)
    student = session.get(Student, student_pk)
    member = session.get(LtiMember, row.member_pk) if row is not None else None
    if row is None or student is None or member is None:
        return [Outcome(student_pk, None, "gone")]
    known = {
        score.assignment_id: score
        for score in session.scalars(select(LtiScore).where(LtiScore.student_pk == student_pk))
    }
    outcomes = [
        _send_one(
            engine,
            session,
            member,
            student_pk,
            assignment,
            grade,
            known.get(assignment.id),
            services,
        )
        for assignment, grade in student_grades(session, student)
    ]
    errors = [outcome.error for outcome in outcomes if outcome.error]
    if errors:
        attempts = row.attempts + 1
        _finish(
            engine,
            student_pk,
            claim,
            status="error",
            attempts=attempts,
            last_error=errors[0][:500],
            next_try_at=utcnow() + timedelta(seconds=backoff(attempts)),
        )
    else:
        anything = any(score.sent_grade is not None for score in known.values()) or any(
            outcome.sent is not None for outcome in outcomes
        )
        _finish(
            engine,
            student_pk,
            claim,
            status="sent" if anything else "waiting",
            attempts=0,
            last_error="",
        )
    return outcomes


def _send_one(
    engine: Engine,
    session: Session,
    member: LtiMember,
    student_pk: int,
    assignment: Assignment,
    grade: int | None,
    score: LtiScore | None,
    services: dict[int, AssignmentsGradesService],
) -> Outcome:
    """One assignment's grade to its column, unless the LMS has it already.

    A retry of a grade that failed resends the failed attempt's timestamp; a 409 to it
    means the LMS took that attempt (see the module's docstring)."""
    slug = assignment.slug
    sent = score.sent_grade if score is not None else None
    if grade is None or grade == sent:
        status = "sent" if sent is not None else "waiting"  # nothing (new) to send
        if score is not None and (score.status, score.pending_grade) != (status, grade):
            _record(engine, student_pk, assignment.id, status=status, pending_grade=grade)
        return Outcome(student_pk, None, assignment=slug)
    retry = (
        score is not None
        and score.status in ("error", "sending")
        and score.pending_grade == grade
        and score.last_timestamp is not None
    )
    last = score.last_timestamp if score is not None else None
    timestamp = last if retry and last is not None else next_timestamp(last, utcnow())
    max_score = newest_rubric(session, assignment.id).max_score
    fresh = score is None
    if not retry:  # a process lost before it records the answer: the next send is a retry
        _record(engine, student_pk, assignment.id, status="sending", pending_grade=grade,
                last_timestamp=timestamp, create=fresh)  # fmt: skip
        fresh = False
    try:
        _send(session, member, assignment, grade, max_score, timestamp, services)
    except Exception as exc:  # the LMS's answer, a timeout, a refused connection...
        if not (retry and _conflict(exc)):
            error = _said(exc)
            _record(
                engine,
                student_pk,
                assignment.id,
                status="error",
                pending_grade=grade,
                last_timestamp=timestamp,
                last_error=error[:500],
                create=fresh,
            )
            log.warning(
                "LTI grade passback for student %s (%s) failed: %s", student_pk, slug, error
            )
            return Outcome(student_pk, None, error, assignment=slug)
    _record(
        engine,
        student_pk,
        assignment.id,
        status="sent",
        sent_grade=grade,
        pending_grade=grade,
        last_timestamp=timestamp,
        last_error="",
        sent_at=utcnow(),
        create=fresh,
    )
    return Outcome(student_pk, grade, assignment=slug)


def _record(
    engine: Engine, student_pk: int, assignment_id: int, *, create: bool = False, **values: Any
) -> None:
    """Write what the LMS has of one grade (the student's row is claimed: no one else
    writes it)."""
    with write_transaction(engine) as connection:
        if create:
            connection.execute(
                insert(LtiScore).values(
                    student_pk=student_pk, assignment_id=assignment_id, **values
                )
            )
        else:
            connection.execute(
                update(LtiScore)
                .where(LtiScore.student_pk == student_pk, LtiScore.assignment_id == assignment_id)
                .values(**values)
            )


def _conflict(exc: Exception) -> bool:
    """The LMS answered 409: it holds a score at least as new as the one sent."""
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) == 409


def _send(
    session: Session,
    member: LtiMember,
    assignment: Assignment,
    grade: int,
    max_score: int,
    timestamp: datetime,
    services: dict[int, AssignmentsGradesService],
) -> None:
    context = session.get(LtiContext, member.context_pk)
    assert context is not None
    if not context.lineitems_url:
        raise LookupError("the LMS gave no line items URL (AGS is not enabled for the tool)")
    ags = services.get(context.id)
    if ags is None:
        registration = DatabaseToolConf(session).registration(context.deployment.registration)
        ags = services[context.id] = AssignmentsGradesService(
            CachedTokenConnector(registration),
            {"scope": context.ags_scopes.split(), "lineitems": context.lineitems_url},  # type: ignore[typeddict-item]
        )
    column = lineitems.line_item(session, ags, context, assignment, max_score)
    score = (
        Grade()
        .set_score_given(grade)
        .set_score_maximum(max_score)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(member.sub)
        .set_timestamp(timestamp.isoformat(timespec="microseconds"))
        .set_extra_claims({CANVAS_SUBMISSION: {"new_submission": False}})
    )
    ags.put_grade(score, column)


def _said(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        body = (response.text or "").strip().splitlines()
        return f"the LMS answered {response.status_code}" + (f": {body[0][:200]}" if body else "")
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


# --- The worker thread of a server process -------------------------------------------------


#: The worker thread's nice value: on a busy machine, requests (ingest) go first.
NICENESS = 10


class Worker(threading.Thread):
    """Runs :func:`run_once` every ``interval`` seconds while its app lives, at a lower CPU
    priority than the process's requests."""

    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="lti-passback", daemon=True)
        self._app = weakref.ref(app)
        self.interval = interval
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.database_said = False
        self.requests = InFlight()

    def run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # Linux: this thread alone
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
        while not self.stopped.is_set():
            app = self._app()
            if app is None:
                return
            try:
                with app.app_context():
                    run_for_app(app, self.requests)
            except DBAPIError as exc:  # no schema yet, the database restarting: said once
                if not self.database_said:
                    log.warning("LTI grade passback waits for the database: %s", exc.orig)
                    self.database_said = True
            except Exception:  # keep going: the next round tries again
                log.exception("LTI grade passback round failed")
            else:
                self.database_said = False
            del app
            self.wake.wait(self.interval)
            self.wake.clear()


def run_for_app(app: Flask, requests: InFlight | None = None) -> list[Outcome]:
    from webhook.database import get_db

    return run_once(get_db().engine, requests=requests)
