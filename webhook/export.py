"""Grades as CSV files that LMS gradebooks import.

* ``canvas``: Canvas's gradebook import columns ``Student, ID, SIS User ID,
  SIS Login ID, Section`` then one column per assignment, with a ``Points
  Possible`` row first. ``SIS User ID`` is the roster's student id and
  ``SIS Login ID`` the email; ``ID`` (Canvas's own) stays empty, so Canvas
  matches by the SIS columns. A new column name creates the assignment.
* ``moodle``: ``ID number, Email address, First name, Last name`` then the grade;
  in Moodle's "Import → CSV file" map "ID number" (or "Email address") to the
  user and the grade column to the grade item.

Students with no submission get an empty grade (left unchanged by the import).
Points Possible is the server's rubric's total (the JSON document it scores from,
:func:`webhook.config.current_rubric`).
"""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy.orm import Session

from webhook.config import current_rubric
from webhook.storage.models import Course
from webhook.storage.queries import course_grades

FORMATS = ("canvas", "moodle")


def export_grades(
    session: Session, course: Course, handle: TextIO, *, fmt: str, grade: str = "best"
) -> None:
    rows = course_grades(session, course)
    max_score = current_rubric().max_score
    column = f"{course.name} lab"
    out = csv.writer(handle, lineterminator="\r\n")
    if fmt == "canvas":
        out.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        out.writerow(["Points Possible", "", "", "", "", max_score])
    elif fmt == "moodle":
        out.writerow(["ID number", "Email address", "First name", "Last name", column])
    else:
        raise ValueError(f"unknown format {fmt!r}")
    for row in rows:
        score = row.best_score if grade == "best" else row.latest_score
        value = "" if score is None else str(score)
        student = row.student
        if fmt == "canvas":
            out.writerow(
                [
                    _canvas_name(student.name) or student.student_id,
                    "",
                    student.student_id,
                    student.email,
                    "",
                    value,
                ]
            )
        else:
            first, _, last = student.name.partition(" ")
            out.writerow([student.student_id, student.email, first, last, value])


def _canvas_name(name: str) -> str:
    """Canvas lists students as ``Last, First``."""
    first, _, last = name.strip().rpartition(" ")
    return f"{last}, {first}" if first and last else name.strip()
