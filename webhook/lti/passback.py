"""Grade passback through AGS: a durable outbox, one row per LMS-bound student.

**Marking.** Whatever may change a student's course grade (a stored report, a decided
flag) says so through :func:`webhook.grade_events.notify_grade_changed`, inside its own
transaction; :func:`mark_changed`, the listener LTI registers (:func:`register`), marks
their row ``dirty`` there (one indexed ``UPDATE``, nothing for a student the LMS does not
know), so a change is never lost, and ingest pays one statement.

**Sending** (:func:`run_once`, by the worker thread of each server process or by
``grade-server lti passback``): a due row is *claimed* first (one conditional ``UPDATE``
that only one worker can win, with a lease), then the grade is computed as the CSV export
computes it (:func:`webhook.lti.grades.student_grade`) and sent only when it differs from
the last one the LMS acknowledged (``sent_grade``): never twice for the same grade. A
failure (the LMS down, slow past the time limit, a 4xx/5xx) keeps the row due, with
back-off (:func:`backoff`), and its error shown in the gradebook. A worker that dies
mid-send leaves a claim whose lease runs out, and the row is taken again.

Scores carry ``activityProgress: Completed`` and ``gradingProgress: FullyGraded`` (Moodle
ignores other values), a timestamp strictly later than the last one sent for the student
with microseconds (Moodle answers 409 to an equal one), and Canvas's submission extension
with ``new_submission: false`` (each new submission uses up an attempt in Canvas).

**A retry is the same score.** A send that failed (a timeout above all: the LMS may have
taken the score and answered too late) is retried with the same grade *and the same
timestamp*, so that it can never show in the LMS as a second, newer submission; a 409 to
that retry (AGS: a score not newer than the one the platform holds is refused) means the
first attempt arrived, and the row is delivered. A grade that changed in between is a new
score, with a new timestamp.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from sqlalchemy import Connection, Engine, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from webhook import grade_events
from webhook.lti.grades import student_grade
from webhook.lti.models import LtiContext, LtiLineItem, LtiMember, LtiPassback
from webhook.lti.services import CachedTokenConnector
from webhook.lti.toolconf import DatabaseToolConf
from webhook.storage.db import make_session_factory, write_transaction
from webhook.storage.models import Course, Student, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than the three requests of a send, each time-limited
MAX_BACKOFF = 600.0
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
LINE_ITEM_TAG = "docker-lab-grader:{lab}"

_MARK = (
    update(LtiPassback)
    .where(LtiPassback.student_pk == bindparam("pk"))
    .values(dirty=True, next_try_at=bindparam("now"))
)


def mark_changed(connection: Connection, student_pk: int) -> None:
    """The grade of ``student_pk`` may have changed: send it (part of the caller's
    transaction; a no-op for a student the LMS does not know)."""
    connection.execute(_MARK, {"pk": student_pk, "now": utcnow()})


def register(app: Flask) -> None:
    """Send the grades that may have changed: listen to :mod:`webhook.grade_events`."""
    grade_events.add_listener(app, mark_changed)


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
    engine: Engine,
    *,
    limit: int = 500,
    lab: str,
    max_score: int,
    requests: InFlight | None = None,
) -> list[Outcome]:
    """Claim and send every due row (at most ``limit``); what happened to each.

    With ``requests`` (the worker thread's), each send first lets the process's requests
    in flight finish (up to :data:`MAX_YIELD`): ingest goes first (one Python process
    runs one thread at a time)."""
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
    outcomes = []
    factory = make_session_factory(engine)
    services: dict[int, AssignmentsGradesService] = {}  # per context, for this round
    for start in range(0, len(due), BATCH):
        claim, claimed = _claim(engine, due[start : start + BATCH])
        for student_pk in claimed:
            if requests is not None:
                requests.wait_idle(MAX_YIELD)
            with factory() as session:
                outcomes.append(
                    _process(engine, session, student_pk, claim, lab, max_score, services)
                )
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
    lab: str,
    max_score: int,
    services: dict[int, AssignmentsGradesService],
) -> Outcome:
    row = session.get(LtiPassback, student_pk)
    student = session.get(Student, student_pk)
    member = session.get(LtiMember, row.member_pk) if row is not None else None
    if row is None or student is None or member is None:
        return Outcome(student_pk, None, "gone")
    grade = student_grade(session, student)
    if grade is None or grade == row.sent_grade:
        _finish(engine, student_pk, claim, pending_grade=grade, attempts=0, **_settled(row))
        return Outcome(student_pk, None)
    retry = row.status == "error" and row.pending_grade == grade and row.last_timestamp is not None
    timestamp = row.last_timestamp if retry else next_timestamp(row.last_timestamp, utcnow())
    assert timestamp is not None
    try:
        _send(session, member, grade, max_score, lab, timestamp, services)
    except Exception as exc:  # the LMS's answer, a timeout, a refused connection...
        if not (retry and _conflict(exc)):
            return _failed(engine, row, claim, grade, timestamp, exc)
    _finish(
        engine,
        student_pk,
        claim,
        status="sent",
        sent_grade=grade,
        pending_grade=grade,
        attempts=0,
        last_error="",
        last_timestamp=timestamp,
        sent_at=utcnow(),
    )
    return Outcome(student_pk, grade)


def _conflict(exc: Exception) -> bool:
    """The LMS answered 409: it holds a score at least as new as the one sent."""
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) == 409


def _failed(
    engine: Engine, row: LtiPassback, claim: str, grade: int, timestamp: datetime, exc: Exception
) -> Outcome:
    """Not delivered: due again after the back-off, with the same grade and timestamp (a
    retry is the same score, see :func:`_process`)."""
    student_pk = row.student_pk
    error = _said(exc)
    attempts = row.attempts + 1
    _finish(
        engine,
        student_pk,
        claim,
        status="error",
        pending_grade=grade,
        attempts=attempts,
        last_error=error[:500],
        last_timestamp=timestamp,
        next_try_at=utcnow() + timedelta(seconds=backoff(attempts)),
    )
    log.warning("LTI grade passback for student %s failed: %s", student_pk, error)
    return Outcome(student_pk, None, error)


def _settled(row: LtiPassback) -> dict[str, Any]:
    """A row with nothing (new) to send: sent if the LMS has its grade, else waiting."""
    return {"status": "sent" if row.sent_grade is not None else "waiting", "last_error": ""}


def _send(
    session: Session,
    member: LtiMember,
    grade: int,
    max_score: int,
    lab: str,
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
    line_item = _line_item(session, ags, context, lab, max_score)
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
    ags.put_grade(score, line_item)


class LineItemPending(LookupError):
    """Another worker is creating the lab's column right now: try again shortly."""


def _line_item(
    session: Session, ags: AssignmentsGradesService, context: LtiContext, lab: str, max_score: int
) -> LineItem:
    """The lab's column in the context: as remembered, else found by tag, else created.

    Once per context, by the worker that inserts the placeholder row first (the unique
    constraint decides, in a short transaction): workers sending a class's first grades
    at once must not each create a column. No lock is held while the LMS answers.
    """
    query = select(LtiLineItem.url).where(
        LtiLineItem.context_pk == context.id, LtiLineItem.lab == lab
    )
    known = session.scalar(query)
    if known:
        return LineItem({"id": known})
    if known == "":
        raise LineItemPending("the lab's line item is being created by another worker")
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    try:
        with write_transaction(engine) as connection:
            connection.execute(insert(LtiLineItem).values(context_pk=context.id, lab=lab, url=""))
    except IntegrityError:
        raise LineItemPending("the lab's line item is being created by another worker") from None
    course = session.get(Course, context.course_id)
    wanted = (
        LineItem()
        .set_tag(LINE_ITEM_TAG.format(lab=lab))
        .set_resource_id(lab)
        .set_score_maximum(max_score)
        .set_label(f"{course.name if course else lab}: Docker lab")
    )
    placeholder = delete(LtiLineItem).where(
        LtiLineItem.context_pk == context.id, LtiLineItem.lab == lab, LtiLineItem.url == ""
    )
    try:
        found = ags.find_or_create_lineitem(wanted)
        url = found.get_id()
        if not url:
            raise LookupError("the LMS answered a line item without an id")
    except BaseException:
        with write_transaction(engine) as connection:
            connection.execute(placeholder)
        raise
    with write_transaction(engine) as connection:
        connection.execute(
            update(LtiLineItem)
            .where(LtiLineItem.context_pk == context.id, LtiLineItem.lab == lab)
            .values(url=url)
        )
    return found


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
    from webhook.config import current_rubric
    from webhook.database import get_db

    rubric = current_rubric()
    return run_once(get_db().engine, lab=rubric.lab, max_score=rubric.max_score, requests=requests)
