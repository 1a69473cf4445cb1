"""Which courses an instructor may see: the one rule every gradebook page, export, flag
decision and instructor's read of the API follows.

An instructor sees the courses they teach (``course_instructor``: ``grade-server course
add-instructor``, ``course create --instructor``, or an LMS launch as staff); a server
administrator (``instructor.is_admin``: ``grade-server instructor create USER --admin`` or
``instructor set USER --admin``) sees every course. A course the instructor may not see
answers 404, exactly as a course that does not exist: its slug, roster and flags are not
revealed, nor that it is there at all.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from webhook.auth import current_instructor
from webhook.database import get_session
from webhook.storage.models import Course, CourseInstructor, Instructor


def courses_visible_to(instructor: Instructor) -> ColumnElement[bool]:
    """A condition on :class:`Course`: the courses ``instructor`` may see."""
    if instructor.is_admin:
        return true()
    taught = select(CourseInstructor.course_id).where(
        CourseInstructor.instructor_id == instructor.id
    )
    return Course.id.in_(taught)


def may_see(session: Session, instructor: Instructor, course_id: int) -> bool:
    """Whether ``instructor`` may see the course ``course_id``."""
    found = session.scalar(
        select(Course.id).where(Course.id == course_id, courses_visible_to(instructor))
    )
    return found is not None


def require_course(slug: str) -> Course:
    """The course ``slug`` if this request's instructor may see it, else abort with 404
    (the same answer as for no such course)."""
    instructor = current_instructor()
    if instructor is None:
        abort(404)
    course = get_session().scalar(
        select(Course).where(Course.slug == slug, courses_visible_to(instructor))
    )
    if course is None:
        abort(404)
    return course
