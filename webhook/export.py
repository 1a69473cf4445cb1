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

Every text cell follows OWASP's rule against CSV injection: one that a spreadsheet
would read as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading ``'``, so a student's name or email can never run in the
instructor's spreadsheet. Numbers (points, grades) are written as they are.
"""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy.orm import Session

from submissions.scoring import GradePolicy
from webhook.config import current_rubric
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import Assignment, Course
from webhook.storage.queries import assignment_grades, course_grades, first_assignment

FORMATS = ("canvas", "moodle")
FLAGS_COLUMN = "Open flags"
#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A text cell no spreadsheet runs: a would-be formula gets a leading ``'``."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _SafeWriter:
    """``csv.writer`` whose text cells pass through :func:`cell` (ints stay numbers)."""

    def __init__(self, handle: TextIO) -> None:
        self._out = csv.writer(handle, lineterminator="\r\n")

    def writerow(self, row: list[str | int]) -> None:
        self._out.writerow([cell(v) if isinstance(v, str) else v for v in row])


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
        max_score, column = current_rubric().max_score, f"{course.name} lab"
    else:
        rows = assignment_grades(session, assignment, policy)
        max_score = newest_rubric(session, assignment.id).max_score
        column = assignment.title
    out = _SafeWriter(handle)
    if fmt == "canvas":
        out.writerow(
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", FLAGS_COLUMN, column]
        )
        out.writerow(["Points Possible", "", "", "", "", "", max_score])
    else:
        out.writerow(
            ["ID number", "Email address", "First name", "Last name", FLAGS_COLUMN, column]
        )
    for row in rows:
        value = "" if row.grade is None else str(row.grade)
        flags = "; ".join(row.open_flags)
        student = row.student
        if fmt == "canvas":
            name = _canvas_name(student.name) or student.student_id
            out.writerow([name, "", student.student_id, student.email, "", flags, value])
        else:
            first, _, last = student.name.partition(" ")
            out.writerow([student.student_id, student.email, first, last, flags, value])


def _canvas_name(name: str) -> str:
    """Canvas lists students as ``Last, First``."""
    first, _, last = name.strip().rpartition(" ")
    return f"{last}, {first}" if first and last else name.strip()
