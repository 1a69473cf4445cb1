"""One student's course grade, as the CSV export decides it (:func:`course_grade`)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from submissions.scoring import GradePolicy, Source, StoredReport, course_grade
from webhook.storage.models import Course, Student, Submission
from webhook.storage.queries import course_sources


def student_grade(session: Session, student: Student) -> int | None:
    """The grade the LMS should show for ``student``: ``None`` while nothing counts."""
    course = session.get(Course, student.course_id)
    assert course is not None
    rows = session.execute(
        select(
            Submission.id,
            Submission.score,
            Submission.received_at,
            Submission.flagged,
            Submission.rejected,
            Submission.source,
        ).where(Submission.student_pk == student.id)
    )
    reports = [
        StoredReport(pk, score, received_at, flagged, rejected, cast(Source, source))
        for pk, score, received_at, flagged, rejected, source in rows
    ]
    policy = GradePolicy(sources=course_sources(course))
    return course_grade(reports, policy, closes_at=course.closes_at)
