"""Whether each of a student's reports is late, as their grade judges it.

The pages and the API mark reports late; the mark must say what the grade does
(:func:`submissions.scoring.assignment_grade`): late after the student's own due time (the
report's assignment's close, or their extension) and judged by when the report counts as
submitted (:func:`submissions.lateness.submitted_at`: its own date unless its evidence
contradicts it). Three small queries per page, whatever the number of reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from submissions.exceptions import NO_EXCEPTIONS, Exceptions
from submissions.lateness import CLOCK_FLAGS, lateness, submitted_at
from webhook.storage.models import Assignment, AssignmentException, Flag, Submission


def student_dues(session: Session, course_id: int, student_pk: int) -> dict[int, datetime | None]:
    """Assignment id → the student's due time for it (its close, or their extension)."""
    closes: dict[int, datetime | None] = {
        assignment_id: closes_at
        for assignment_id, closes_at in session.execute(
            select(Assignment.id, Assignment.closes_at).where(Assignment.course_id == course_id)
        )
    }
    extended = {
        row.assignment_id: row
        for row in session.execute(
            select(
                AssignmentException.assignment_id,
                AssignmentException.until,
                AssignmentException.extra_days,
            ).where(
                AssignmentException.student_pk == student_pk,
                AssignmentException.kind == "extension",
                AssignmentException.removed_at.is_(None),
            )
        )
    }
    dues: dict[int, datetime | None] = {}
    for assignment_id, closes_at in closes.items():
        row = extended.get(assignment_id)
        exceptions = NO_EXCEPTIONS
        if row is not None:
            exceptions = Exceptions(until=row.until, extra_days=row.extra_days)
        dues[assignment_id] = exceptions.due(closes_at)
    return dues


def late_marks(
    session: Session, course_id: int, student_pk: int, submissions: Sequence[Submission]
) -> dict[int, bool]:
    """Submission id → whether it is late for the student (see the module's docstring)."""
    if not submissions:
        return {}
    dues = student_dues(session, course_id, student_pk)
    ids = [s.id for s in submissions]
    distrusted = set(
        session.scalars(
            select(Flag.submission_id).where(
                Flag.submission_id.in_(ids), Flag.kind.in_(sorted(CLOCK_FLAGS))
            )
        )
    )
    return {
        s.id: bool(
            lateness(
                submitted_at(s.received_at, s.created, CLOCK_FLAGS if s.id in distrusted else ()),
                dues.get(s.assignment_id),
            )
        )
        for s in submissions
    }
