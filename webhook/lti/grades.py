"""One student's grade, as the CSV export decides it (:func:`course_grade`): for their
course's first assignment, the one the passback has a line item for until LTI follows
assignments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from submissions.scoring import GradePolicy, course_grade
from webhook.storage.models import Course, Student, Submission
from webhook.storage.queries import course_sources, first_assignment, stored_reports


def student_grade(session: Session, student: Student) -> int | None:
    """The grade the LMS should show for ``student``: ``None`` while nothing counts."""
    course = session.get(Course, student.course_id)
    assert course is not None
    assignment = first_assignment(session, course)
    if assignment is None:
        return None
    reports = [
        report
        for _, report in stored_reports(
            session,
            Submission.student_pk == student.id,
            Submission.assignment_id == assignment.id,
        )
    ]
    policy = GradePolicy(sources=course_sources(assignment))
    return course_grade(reports, policy, closes_at=assignment.closes_at)
