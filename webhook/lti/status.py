"""What reached the LMS, per student: the gradebook's "LMS" column (sent, waiting, error)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.lti.models import LtiContext, LtiPassback
from webhook.storage.models import Course, Student


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


def lms_status(session: Session, course: Course) -> LmsColumn:
    """Roster id → the passback state of each LMS-bound student of ``course``."""
    rows = session.execute(
        select(Student.student_id, LtiPassback)
        .join(LtiPassback, LtiPassback.student_pk == Student.id)
        .where(Student.course_id == course.id)
    )
    found = LmsColumn()
    for student_id, row in rows:
        found[student_id] = describe(row)
    found.linked = (
        session.scalar(select(LtiContext.id).where(LtiContext.course_id == course.id).limit(1))
        is not None
    )
    return found


def describe(row: LtiPassback) -> LmsStatus:
    waiting = (
        row.dirty
        or row.claim != ""
        or (row.pending_grade is not None and row.pending_grade != row.sent_grade)
    )
    if row.status == "error":
        return LmsStatus(
            "error",
            f"⚠ not sent ({row.attempts} tries)",
            f"grade {row.pending_grade}: {row.last_error}",
        )
    if waiting:
        return LmsStatus("waiting", "waiting", "the grade is on its way to the LMS")
    if row.sent_grade is not None:
        sent = row.sent_at.strftime("%Y-%m-%d %H:%M UTC") if row.sent_at else ""
        return LmsStatus("sent", f"✓ {row.sent_grade} sent", f"reached the LMS {sent}")
    return LmsStatus("waiting", "—", "nothing counts yet: nothing to send")
