"""Grades as CSV files that LMS gradebooks import, counting only what can be trusted.

* ``canvas``: the whole course, one column per assignment
  (:func:`submissions.canvas.canvas_csv`): Canvas's gradebook import columns ``Student, ID,
  SIS User ID, SIS Login ID, Section``, a ``Points Possible`` row, then each student's
  grade per assignment, a number or empty. Nothing else: Canvas makes a new assignment of
  every column it does not know.
* ``flags``: what the Canvas file cannot say, a second file to read (not to import): per
  student and assignment the raw score, the penalty, the grade, its marks (late,
  extended, excused, overridden) and the open flags (:func:`submissions.canvas.flags_csv`).
* ``moodle``: one assignment (Moodle imports one grade item at a time):
  ``ID number, Email address, First name, Last name, Open flags`` then the grade
  (:func:`submissions.moodle.moodle_csv`). The course's only assignment unless one is named;
  a course with several needs one named (:class:`ExportRefused`).

Each grade is :func:`webhook.storage.queries.assignment_grades`'s, the one that the
gradebook shows and the LMS passback sends. A student with nothing that counts gets an
empty grade (left unchanged by the import). The web's export links and ``grade-server
grades export`` both call :func:`export_grades`: the same bytes.

Every text cell follows OWASP's rule against CSV injection
(:func:`submissions.gradesheet.cell`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from submissions.canvas import canvas_csv, flags_csv
from submissions.gradesheet import (
    ENCODING,
    FORMULA_STARTS,
    Cell,
    Column,
    Person,
    Row,
    cell,
)
from submissions.moodle import moodle_csv
from submissions.scoring import GradePolicy
from webhook.config import current_rubric
from webhook.storage import stored_grades
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import Assignment, Course, Student
from webhook.storage.queries import (
    NO_DECISION,
    StudentGrades,
    assignment_grades,
    course_grades,
    open_flags,
)

FORMATS = ("canvas", "flags", "moodle")
#: The formats of the whole course; the others are one assignment's.
COURSE_WIDE = ("canvas", "flags")
__all__ = ["FORMATS", "FORMULA_STARTS", "ExportRefused", "cell", "export_grades"]


class ExportRefused(ValueError):
    """The export cannot be written as asked (one line, naming what to ask instead)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def assignments_of(session: Session, course: Course) -> list[Assignment]:
    """The course's assignments, in the order they were made (the columns' order)."""
    return list(
        session.scalars(
            select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id)
        )
    )


def column_of(session: Session, assignment: Assignment) -> Column:
    """The assignment as a grade column: its title, its newest rubric's total."""
    return Column(
        assignment.slug, assignment.title, newest_rubric(session, assignment.id).max_score
    )


def gradesheet(
    session: Session,
    course: Course,
    assignments: Sequence[Assignment],
    policy: GradePolicy | None = None,
    *,
    stored: bool = False,
) -> tuple[list[Column], list[Row]]:
    """The course's students (roster order) with a cell per assignment, from
    :func:`assignment_grades` (three queries per assignment, none per student).

    ``stored``: the grades as stored (:mod:`webhook.storage.stored_grades`, kept equal to
    :func:`assignment_grades`' by every change), three queries in all: the course page's,
    which cannot decide 160,000 reports' grades per view. Only for the default ``policy``
    (the exports' switches decide again).

    A course without any assignment (made before them, outside ``course create``) has
    one column, ``<course name> lab``, with the server's rubric and nobody graded.
    """
    if stored and assignments and policy in (None, GradePolicy()):
        return _stored_sheet(session, course, assignments)
    columns: list[Column] = []
    graded: list[list[StudentGrades]] = []
    for assignment in assignments:
        columns.append(column_of(session, assignment))
        graded.append(assignment_grades(session, assignment, policy))
    if not assignments:
        columns.append(Column(course.slug, f"{course.name} lab", current_rubric().max_score))
        graded.append(course_grades(session, course, policy))
    rows = []
    for by_student in zip(*graded, strict=True):
        student = by_student[0].student
        cells = {
            column.key: Cell.of(found.decision, found.open_flags)
            for column, found in zip(columns, by_student, strict=True)
        }
        rows.append(Row(Person(student.name, student.student_id, student.email), cells))
    return columns, rows


def _stored_sheet(
    session: Session, course: Course, assignments: Sequence[Assignment]
) -> tuple[list[Column], list[Row]]:
    """:func:`gradesheet` from the stored decisions and the course's open flags."""
    columns = [column_of(session, assignment) for assignment in assignments]
    ids = [assignment.id for assignment in assignments]
    decided = stored_grades.read(session, ids)
    flags = open_flags(session, course.id, ids)
    students = session.execute(
        select(Student.id, Student.name, Student.student_id, Student.email)
        .where(Student.course_id == course.id)
        .order_by(Student.student_id)
    )
    keyed = [(column.key, decided[a], flags[a]) for column, a in zip(columns, ids, strict=True)]
    rows = []
    for pk, name, student_id, email in students:
        cells = {
            key: Cell.of(by_student.get(pk, NO_DECISION), flagged.get(pk, ()))
            for key, by_student, flagged in keyed
        }
        rows.append(Row(Person(name, student_id, email), cells))
    return columns, rows


def pick_assignment(session: Session, course: Course, slug: str | None) -> Assignment | None:
    """The assignment ``slug`` of ``course``, or its only one when none is named (``None``:
    the course has none). Refused: an unknown slug, or several and none named."""
    assignments = assignments_of(session, course)
    if slug is not None:
        found = next((a for a in assignments if a.slug == slug), None)
        if found is None:
            raise ExportRefused(
                f"course {course.slug} has no assignment {slug[:64]!r}", not_found=True
            )
        return found
    if len(assignments) > 1:
        names = ", ".join(a.slug for a in assignments)
        raise ExportRefused(
            f"course {course.slug} has {len(assignments)} assignments ({names}): a Moodle "
            "file is one assignment's, name it (--assignment SLUG, or assignment=SLUG)"
        )
    return assignments[0] if assignments else None


def export_bytes(
    session: Session,
    course: Course,
    *,
    fmt: str,
    policy: GradePolicy | None = None,
    assignment: str | None = None,
) -> bytes:
    """The file ``fmt`` (:data:`FORMATS`) of ``course``; ``assignment``: the Moodle file's
    (default: the course's only one). Raises :class:`ExportRefused`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt in COURSE_WIDE:
        if assignment is not None:
            raise ExportRefused(f"the {fmt} file is the whole course's: name no assignment")
        columns, rows = gradesheet(session, course, assignments_of(session, course), policy)
        return canvas_csv(columns, rows) if fmt == "canvas" else flags_csv(columns, rows)
    chosen = pick_assignment(session, course, assignment)
    columns, rows = gradesheet(session, course, [chosen] if chosen else [], policy)
    return moodle_csv(columns[0], rows)


def export_grades(
    session: Session,
    course: Course,
    handle: TextIO,
    *,
    fmt: str,
    policy: GradePolicy | None = None,
    assignment: str | None = None,
) -> None:
    """Write :func:`export_bytes` to a text ``handle``."""
    body = export_bytes(session, course, fmt=fmt, policy=policy, assignment=assignment)
    handle.write(body.decode(ENCODING))
