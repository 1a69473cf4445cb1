"""What a grade export is made of, before it is a file: students, assignment columns, cells.

The server turns its database into these rows; :mod:`submissions.canvas` and
:mod:`submissions.moodle` turn the rows into the bytes an LMS imports. Keeping the rows
plain values means the CLI and the web write the same bytes, and the files' rules are
tested without a database.

Every text cell follows OWASP's rule against CSV injection: one that a spreadsheet would
read as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
gets a leading ``'``, so a student's name or email can never run in the instructor's
spreadsheet. Numbers (points, grades) are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from submissions.scoring import Decision

#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The files' encoding: what Canvas and Moodle read by default, and what the CLI wrote before.
ENCODING = "utf-8"


def cell(value: str) -> str:
    """A text cell no spreadsheet runs: a would-be formula gets a leading ``'``."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _SafeWriter:
    """``csv.writer`` whose text cells pass through :func:`cell` (ints stay numbers)."""

    def __init__(self, handle: io.StringIO) -> None:
        self._out = csv.writer(handle, lineterminator="\r\n")

    def writerow(self, row: list[str | int]) -> None:
        self._out.writerow([cell(v) if isinstance(v, str) else v for v in row])


def write_csv(rows: list[list[str | int]]) -> bytes:
    """``rows`` as the bytes of a CSV file (CRLF lines, formula-safe text cells)."""
    body = io.StringIO()
    out = _SafeWriter(body)
    for row in rows:
        out.writerow(row)
    return body.getvalue().encode(ENCODING)


@dataclass(frozen=True, slots=True)
class Person:
    """A student as the LMS knows them: ``student_id`` is the SIS id, ``email`` the login."""

    name: str
    student_id: str
    email: str
    section: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    """One assignment as a grade column.

    ``key`` is ours (the assignment's slug), ``canvas_id`` Canvas's own assignment id when
    known (the number Canvas shows in its URL and in its own export's headers).
    """

    key: str
    title: str
    points_possible: int
    canvas_id: int | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """One student's grade for one assignment, with what the instructor should know."""

    grade: int | None
    raw: int | None = None
    penalty: int = 0
    marks: tuple[str, ...] = ()
    open_flags: tuple[str, ...] = ()

    @classmethod
    def of(cls, decision: Decision, open_flags: tuple[str, ...] = ()) -> Cell:
        """The cell of :func:`submissions.scoring.assignment_grade`'s decision."""
        return cls(decision.grade, decision.raw, decision.penalty, decision.marks, open_flags)


EMPTY = Cell(None)


@dataclass(frozen=True, slots=True)
class Row:
    """One student and their cells, by :attr:`Column.key` (a missing key: nothing yet)."""

    student: Person
    cells: Mapping[str, Cell] = field(default_factory=dict)

    def cell(self, column: Column) -> Cell:
        return self.cells.get(column.key, EMPTY)


def number(value: int | None) -> str:
    """A grade cell: the number, or empty (an LMS import leaves an empty cell unchanged)."""
    return "" if value is None else str(value)
