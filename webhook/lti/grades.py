"""A student's grades, as the CSV export decides them (:func:`assignment_grades`): one per
assignment of their course, each for that assignment's LMS column."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.storage.models import Assignment, Student
from webhook.storage.queries import assignment_grades


def course_assignments(session: Session, course_id: int) -> list[Assignment]:
    """The course's assignments, oldest first (the first is the one every course had)."""
    return list(
        session.scalars(
            select(Assignment).where(Assignment.course_id == course_id).order_by(Assignment.id)
        )
    )


def assignment_grade(session: Session, student: Student, assignment: Assignment) -> int | None:
    """The grade the LMS should show for ``student`` in ``assignment``: ``None`` while
    nothing counts."""
    [row] = assignment_grades(session, assignment, student_pk=student.id)
    return row.grade


def student_grades(session: Session, student: Student) -> list[tuple[Assignment, int | None]]:
    """Each assignment of the student's course, with their grade for it."""
    return [
        (assignment, assignment_grade(session, student, assignment))
        for assignment in course_assignments(session, student.course_id)
    ]
