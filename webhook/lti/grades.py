"""One student's grade, as the CSV export decides it
(:func:`webhook.storage.queries.student_decision`: the same reports, late policy and
exceptions): for their course's first assignment, the one the passback has a line item for
until LTI follows assignments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from webhook.storage.models import Course, Student
from webhook.storage.queries import first_assignment, student_decision


def student_grade(session: Session, student: Student) -> int | None:
    """The grade the LMS should show for ``student``: ``None`` while nothing counts."""
    course = session.get(Course, student.course_id)
    assert course is not None
    assignment = first_assignment(session, course)
    if assignment is None:
        return None
    return student_decision(session, assignment, student.id).grade
