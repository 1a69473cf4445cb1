"""Grades as CSV files that LMS gradebooks import, counting only what can be trusted.

* ``canvas``: Canvas's gradebook import columns ``Student, ID, SIS User ID,
  SIS Login ID, Section``, then ``Open flags`` (where Canvas reads custom columns: a
  custom column of that name in Canvas takes it as a note; without one, leave it out
  of the import), then one column per assignment, with a ``Points Possible`` row
  first. ``SIS User ID`` is the roster's student id and ``SIS Login ID`` the email;
  ``ID`` (Canvas's own) stays empty, so Canvas matches by the SIS columns. A new
  column name creates the assignment.
* ``moodle``: ``ID number, Email address, First name, Last name, Open flags`` then the
  grade; in Moodle's "Import → CSV file" map "ID number" (or "Email address") to the
  user and the grade column to the grade item, and leave ``Open flags`` unmapped.

In both, the grade is the last column.

The grade is :func:`submissions.scoring.course_grade`'s: by default the best score
among the reports without open flags, not rejected and received by the course's
deadline (``GradePolicy`` says otherwise). A student with nothing that counts gets an
empty grade (left unchanged by the import); ``Open flags`` says why, for the
instructor. The file is one assignment's (the course's first, unless named): its column
is the assignment's title and Points Possible its newest rubric's total.

Every text cell follows OWASP's rule against CSV injection
(:func:`submissions.gradesheet.cell`). The Moodle file is
:func:`submissions.moodle.moodle_csv`'s, byte for byte.
"""

from __future__ import annotations

from typing import TextIO

from sqlalchemy.orm import Session

from submissions.canvas import IDENTITY, canvas_name
from submissions.gradesheet import (
    ENCODING,
    FORMULA_STARTS,
    Cell,
    Column,
    Person,
    Row,
    cell,
    number,
    write_csv,
)
from submissions.moodle import moodle_csv
from submissions.scoring import GradePolicy
from webhook.config import current_rubric
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import Assignment, Course
from webhook.storage.queries import assignment_grades, course_grades, first_assignment

FORMATS = ("canvas", "moodle")
FLAGS_COLUMN = "Open flags"
__all__ = ["FORMATS", "FORMULA_STARTS", "cell", "export_grades"]


def export_grades(
    session: Session,
    course: Course,
    handle: TextIO,
    *,
    fmt: str,
    policy: GradePolicy | None = None,
    assignment: Assignment | None = None,
) -> None:
    """Write the grades of ``course``'s ``assignment`` (default: its first) as ``fmt``
    (``canvas`` or ``moodle``) to ``handle``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    assignment = assignment or first_assignment(session, course)
    if assignment is None:
        rows = course_grades(session, course, policy)
        column = Column(course.slug, f"{course.name} lab", current_rubric().max_score)
    else:
        rows = assignment_grades(session, assignment, policy)
        max_score = newest_rubric(session, assignment.id).max_score
        column = Column(assignment.slug, assignment.title, max_score)
    sheet = [
        Row(
            Person(row.student.name, row.student.student_id, row.student.email),
            {column.key: Cell(row.grade, open_flags=row.open_flags)},
        )
        for row in rows
    ]
    body = moodle_csv(column, sheet) if fmt == "moodle" else _canvas_with_flags(column, sheet)
    handle.write(body.decode(ENCODING))


def _canvas_with_flags(column: Column, sheet: list[Row]) -> bytes:
    """Today's single-lab Canvas file, with its ``Open flags`` column (see the module's
    docstring); :func:`submissions.canvas.canvas_csv` is the course-wide one without it."""
    lines: list[list[str | int]] = [
        [*IDENTITY, FLAGS_COLUMN, column.title],
        ["Points Possible", "", "", "", "", "", column.points_possible],
    ]
    for row in sheet:
        student, found = row.student, row.cell(column)
        name = canvas_name(student.name) or student.student_id
        flags = "; ".join(found.open_flags)
        lines.append([name, "", student.student_id, student.email, "", flags, number(found.grade)])
    return write_csv(lines)
