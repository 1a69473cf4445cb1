"""What reached the LMS, per student: the gradebook's "LMS" column (sent, waiting, error)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.lti.models import LtiContext, LtiPassback, LtiScore
from webhook.storage.models import Assignment, Course, Student
from webhook.storage.queries import first_assignment


@dataclass(frozen=True)
class LmsStatus:
    state: str  # "sent", "waiting" or "error"
    label: str  # what the cell says
    detail: str  # its tooltip: the last error, or when the grade was sent


class LmsColumn(dict[str, LmsStatus]):
    """Roster id → status; true when the course is linked to an LMS (the column shows)."""

    linked = False

    def __bool__(self) -> bool:
        return self.linked or len(self) > 0


def lms_status(session: Session, course: Course, assignment: Assignment | None = None) -> LmsColumn:
    """Roster id → the passback state of each LMS-bound student of ``course``, for
    ``assignment`` (by default the course's first, the one the course page shows)."""
    if assignment is None:
        assignment = first_assignment(session, course)
    assignment_id = assignment.id if assignment is not None else -1
    rows = session.execute(
        select(Student.student_id, LtiPassback, LtiScore)
        .join(LtiPassback, LtiPassback.student_pk == Student.id)
        .outerjoin(
            LtiScore,
            (LtiScore.student_pk == Student.id) & (LtiScore.assignment_id == assignment_id),
        )
        .where(Student.course_id == course.id)
    )
    found = LmsColumn()
    for student_id, row, score in rows:
        found[student_id] = describe(row, score)
    found.linked = (
        session.scalar(select(LtiContext.id).where(LtiContext.course_id == course.id).limit(1))
        is not None
    )
    return found


def describe(row: LtiPassback, score: LtiScore | None) -> LmsStatus:
    """One student's cell: their outbox row (claimed, marked) and what was sent of the
    assignment's grade."""
    waiting = (
        row.dirty
        or row.claim != ""
        or (
            score is not None
            and score.pending_grade is not None
            and score.pending_grade != score.sent_grade
        )
    )
    if score is not None and score.status == "error":
        return LmsStatus(
            "error",
            f"⚠ not sent ({row.attempts} tries)",
            f"grade {score.pending_grade}: {score.last_error}",
        )
    if waiting:
        return LmsStatus("waiting", "waiting", "the grade is on its way to the LMS")
    if score is not None and score.sent_grade is not None:
        sent = score.sent_at.strftime("%Y-%m-%d %H:%M UTC") if score.sent_at else ""
        return LmsStatus("sent", f"✓ {score.sent_grade} sent", f"reached the LMS {sent}")
    return LmsStatus("waiting", "—", "nothing counts yet: nothing to send")
