"""A student's grades, as the CSV export decides them
(:func:`webhook.storage.queries.student_decision`: the same reports, late policy and
exceptions): one per assignment of their course, each for that assignment's LMS column."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.storage.models import Assignment, Student
from webhook.storage.queries import student_decision


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
    return student_decision(session, assignment, student.id).grade


def student_grades(session: Session, student: Student) -> list[tuple[Assignment, int | None]]:
    """Each assignment of the student's course, with their grade for it."""
    return [
        (assignment, assignment_grade(session, student, assignment))
        for assignment in course_assignments(session, student.course_id)
    ]
