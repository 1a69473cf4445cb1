"""One student's course grade, as the CSV export decides it (:func:`course_grade`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from submissions.scoring import GradePolicy, course_grade
from webhook.storage.models import Course, Student, Submission
from webhook.storage.queries import course_sources, stored_reports


def student_grade(session: Session, student: Student) -> int | None:
    """The grade the LMS should show for ``student``: ``None`` while nothing counts."""
    course = session.get(Course, student.course_id)
    assert course is not None
    reports = [report for _, report in stored_reports(session, Submission.student_pk == student.id)]
    policy = GradePolicy(sources=course_sources(course))
    return course_grade(reports, policy, closes_at=course.closes_at)
