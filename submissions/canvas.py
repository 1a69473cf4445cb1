"""The whole course as one Canvas gradebook import, and its open flags as a second file.

Canvas's importer (Grades → Import) reads a header row whose first columns name the
student, ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
assignment titled ``Title (id)``, where ``id`` is Canvas's own assignment id; an
optional ``Points Possible`` row follows the header, then one row per student. It makes
a **new assignment of every column it does not know**: a note column such as ``Open
flags`` would become an assignment called "Open flags". So this file holds nothing but
the identity columns and one numeric-or-empty cell per assignment; what the instructor
should know (open flags, raw score, penalty, late / extended / excused / overridden) is
in :func:`flags_csv`, a second file.

``ID`` (Canvas's user id) stays empty and ``SIS User ID`` is the roster's student id,
``SIS Login ID`` the email: Canvas matches students by those. A column whose Canvas id is
not known yet is titled alone (Canvas then matches it by title, or creates it); a title
that itself ends in ``(digits)`` would be read as an id, so its parentheses become
brackets; a title spread over lines is joined into one. A title holding one of Canvas's
own read-only column names (``Final Grade``...) is skipped by its importer: refuse such a
title when the assignment is made (:func:`title_problem`). An empty cell leaves Canvas's
grade as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from submissions.gradesheet import Column, Person, Row, number, write_csv

#: The identity columns, in the order Canvas's own export writes them.
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
FLAGS_HEADER = (
    "Student",
    "SIS User ID",
    "SIS Login ID",
    "Assignment",
    "Raw score",
    "Penalty",
    "Grade",
    "Marks",
    "Open flags",
)
#: Canvas's own columns, which its importer skips wherever they appear in a title.
READ_ONLY = (
    "Current Score",
    "Current Points",
    "Current Grade",
    "Final Score",
    "Final Points",
    "Final Grade",
    "Override Score",
    "Override Grade",
    "Override Status",
)
#: How Canvas reads an assignment column's title and id: ``Lab 1 (12345)``.
TITLE_AND_ID = re.compile(r"(.*)\s+\((\d+)\)")


def header(column: Column) -> str:
    """``column``'s header: ``Title (canvas id)``, or its title alone when the id is unknown."""
    title = " ".join(column.title.split())  # Canvas reads a title on one line only
    if column.canvas_id is not None:
        return f"{title} ({column.canvas_id})"
    found = TITLE_AND_ID.fullmatch(title)
    return f"{found.group(1)} [{found.group(2)}]" if found else title


def title_problem(title: str) -> str:
    """Why Canvas could not import a column of this title (one line), or ``""``."""
    if not title.strip():
        return "an assignment needs a title"
    clash = next((name for name in (*READ_ONLY, *IDENTITY) if name in title), None)
    if clash:
        return f"Canvas's importer skips a column whose title holds {clash!r}: {title[:60]!r}"
    return ""


def canvas_csv(columns: Sequence[Column], rows: Sequence[Row]) -> bytes:
    """The course's gradebook import: identity columns, one column per assignment."""
    lines: list[list[str | int]] = [
        [*IDENTITY, *(header(column) for column in columns)],
        [POINTS_POSSIBLE, "", "", "", "", *(column.points_possible for column in columns)],
    ]
    for row in rows:
        student = row.student
        lines.append(
            [
                _student(student),
                "",
                student.student_id,
                student.email,
                student.section,
                *(number(row.cell(column).grade) for column in columns),
            ]
        )
    return write_csv(lines)


def flags_csv(columns: Sequence[Column], rows: Sequence[Row]) -> bytes:
    """What the Canvas file cannot say: per student and assignment, the raw score, the
    penalty, the grade, its marks and the open flags (a file to read, not to import)."""
    lines: list[list[str | int]] = [list(FLAGS_HEADER)]
    for row in rows:
        student = row.student
        for column in columns:
            found = row.cell(column)
            lines.append(
                [
                    student.name,
                    student.student_id,
                    student.email,
                    column.title,
                    number(found.raw),
                    str(found.penalty) if found.raw is not None else "",
                    number(found.grade),
                    ", ".join(found.marks),
                    "; ".join(found.open_flags),
                ]
            )
    return write_csv(lines)


def _student(student: Person) -> str:
    """The ``Student`` cell: Canvas reads any row whose first cell holds "Points Possible"
    as the points row, so such a name gives way to the student id (Canvas matches by the
    SIS columns anyway)."""
    name = canvas_name(student.name)
    return student.student_id if not name or POINTS_POSSIBLE in name else name


def canvas_name(name: str) -> str:
    """Canvas lists students as ``Last, First``."""
    first, _, last = name.strip().rpartition(" ")
    return f"{last}, {first}" if first and last else name.strip()
