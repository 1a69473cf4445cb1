"""One assignment's grades as Moodle's CSV import reads them.

Moodle imports one grade item at a time ("Import → CSV file", then map the columns), so
the file stays per assignment: ``ID number, Email address, First name, Last name, Open
flags`` then the grade, last. Map "ID number" (or "Email address") to the user and the
grade column to the grade item, and leave ``Open flags`` unmapped (Moodle ignores an
unmapped column, unlike Canvas). The same bytes the server wrote before assignments.
"""

from __future__ import annotations

from collections.abc import Sequence

from submissions.gradesheet import Column, Row, number, write_csv

FLAGS_COLUMN = "Open flags"
IDENTITY = ("ID number", "Email address", "First name", "Last name")


def moodle_csv(column: Column, rows: Sequence[Row]) -> bytes:
    """``column``'s grades, one row per student, the grade last and empty when none."""
    lines: list[list[str | int]] = [[*IDENTITY, FLAGS_COLUMN, column.title]]
    for row in rows:
        student, found = row.student, row.cell(column)
        first, _, last = student.name.partition(" ")
        flags = "; ".join(found.open_flags)
        lines.append([student.student_id, student.email, first, last, flags, number(found.grade)])
    return write_csv(lines)
