"""What a student's pages show: their reports over time, and one report check by check.

A page of history costs two index range reads however long the history (a hostile
student may send thousands), and raw XML is never loaded; whether a report is late is
:func:`webhook.storage.late_marks.late_marks`'s (the student's extension, the report's own
date), as their grade judges it. Results are small frozen
records, as in :mod:`webhook.gradebook.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defer, object_session

from webhook.config import check_hint
from webhook.storage.late_marks import late_marks
from webhook.storage.models import Course, Student, Submission, SubmissionCheck


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    report_id: str
    received_at: datetime
    created: datetime
    score: int
    max_score: int
    grader_version: str
    checks_digest: str
    engine_id: str
    flagged: bool
    flag_reason: str
    via: str
    rejected: bool = False
    source: str = "self"
    verified_by: str = ""
    late: bool = False  # received after the course's deadline
    engine_name: str = ""
    engine_version: str = ""


@dataclass(frozen=True, slots=True)
class CheckRow:
    check_id: str
    task: str
    status: str
    points: int
    max_points: int
    message: str
    hint: str


def student(session: Session, course: Course, student_id: str) -> Student | None:
    return session.scalars(
        select(Student).where(Student.course_id == course.id, Student.student_id == student_id)
    ).one_or_none()


def history(session: Session, student: Student) -> list[SubmissionRow]:
    """A student's reports, oldest first (all of them: pages use :func:`history_page`)."""
    query = (
        select(Submission)
        .options(defer(Submission.raw_xml))
        .where(Submission.student_pk == student.id)
        .order_by(Submission.received_at, Submission.id)
    )
    found = session.scalars(query).all()
    late = late_marks(session, student.course_id, student.id, found)
    return [_submission_row(s, late[s.id]) for s in found]


#: Reports on one page of a student's history.
HISTORY_PAGE = 50


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of a student's reports, and what the page says about all of them."""

    rows: tuple[SubmissionRow, ...]  # this page's reports, oldest first
    page: int  # 1: the newest reports
    pages: int
    total: int  # every report of the student
    best: int | None
    flagged: int
    latest: SubmissionRow | None  # the student's newest report, on whichever page

    @property
    def first(self) -> int:
        """The 1-based position, newest first, of this page's newest report."""
        return (self.page - 1) * HISTORY_PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def history_page(session: Session, student: Student, page: int = 1) -> HistoryPage:
    """Page ``page`` (1 = newest; past the end: the last) of the student's reports.

    Two index range reads whatever the history's length (a hostile student may send
    thousands): the counts and best score, then one page, raw XML never loaded.
    """
    total, best, flagged = session.execute(
        select(
            func.count(),
            func.max(Submission.score),
            func.coalesce(func.sum(case((Submission.flagged, 1), else_=0)), 0),
        ).where(Submission.student_pk == student.id)
    ).one()
    pages = max(1, -(-int(total) // HISTORY_PAGE))
    page = min(max(1, page), pages)
    query = (
        select(Submission)
        .options(defer(Submission.raw_xml))
        .where(Submission.student_pk == student.id)
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .offset((page - 1) * HISTORY_PAGE)
        .limit(HISTORY_PAGE)
    )
    found = list(session.scalars(query))
    on_page = len(found)
    if page != 1 and total:
        found.append(session.scalars(query.offset(0).limit(1)).one())  # the newest, last
    late = late_marks(session, student.course_id, student.id, found)
    newest_first = [_submission_row(s, late[s.id]) for s in found[:on_page]]
    latest = newest_first[0] if page == 1 and newest_first else None
    if latest is None and total:
        latest = _submission_row(found[-1], late[found[-1].id])
    return HistoryPage(
        rows=tuple(reversed(newest_first)),
        page=page,
        pages=pages,
        total=int(total),
        best=None if best is None else int(best),
        flagged=int(flagged),
        latest=latest,
    )


def submission(session: Session, course: Course, submission_id: int) -> Submission | None:
    return session.scalars(
        select(Submission).where(Submission.id == submission_id, Submission.course_id == course.id)
    ).one_or_none()


def submission_row(sub: Submission) -> SubmissionRow:
    session = object_session(sub)
    assert session is not None
    late = late_marks(session, sub.course_id, sub.student_pk, [sub])
    return _submission_row(sub, late[sub.id])


def checks(session: Session, sub: Submission) -> list[CheckRow]:
    """One report's checks in the order the report lists them."""
    query = (
        select(
            SubmissionCheck.check_id,
            SubmissionCheck.task,
            SubmissionCheck.status,
            SubmissionCheck.points,
            SubmissionCheck.max_points,
            SubmissionCheck.message,
            SubmissionCheck.hint,
        )
        .where(SubmissionCheck.submission_id == sub.id)
        .order_by(SubmissionCheck.id)
    )
    return [
        CheckRow(*row[:-1], hint=check_hint(row.check_id, row.status, row.hint))
        for row in session.execute(query)
    ]


def _submission_row(s: Submission, late: bool) -> SubmissionRow:
    return SubmissionRow(
        id=s.id,
        report_id=s.report_id,
        received_at=s.received_at,
        created=s.created,
        score=s.score,
        max_score=s.max_score,
        grader_version=s.grader_version,
        checks_digest=s.checks_digest,
        engine_id=s.engine_id,
        flagged=s.flagged,
        flag_reason=s.flag_reason,
        via=s.via,
        rejected=s.rejected,
        late=late,
        engine_name=s.engine_name,
        engine_version=s.engine_version,
        source=s.source,
        verified_by=s.verified_by,
    )
