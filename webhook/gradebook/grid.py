"""The course page's grid, students by assignments, as HTML made here rather than in Jinja.

A course of 1,000 students and 8 assignments is 8,000 cells; the template engine spent
most of the page's time on them (issue 19: the page in 300 ms). Here each row's cells are
joined from plain strings, every value escaped (:func:`markupsafe.escape`), and a cell seen
before (most are: the same grade, no mark) is taken from a dictionary of the render. The
template still lays out the page and the row around them (``course.html``).

Each cell: ``data-assignment`` (the column's key) and ``data-grade`` (the grade, or empty);
the grade or "—"; the late penalty with the raw score in its title; a badge per mark
(:attr:`submissions.scoring.Decision.marks`); ⚑ flagged with the open flags, said for
screen readers too.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from markupsafe import Markup, escape

from submissions.gradesheet import Cell, Column, Row


def row_cells(
    columns: Sequence[Column], rows: Sequence[Row], student_base: str
) -> list[tuple[Row, Markup]]:
    """Each row with its HTML: the roster id (a link to the student's page at
    ``student_base`` + the id), the name, then one cell per column."""
    seen: dict[tuple[str, Cell], str] = {}
    base = escape(student_base)
    made = []
    for row in rows:
        sid = row.student.student_id
        parts = [
            f'<td><a href="{base}{escape(quote(sid, safe="/"))}">{escape(sid)}</a></td>'
            f"<td>{escape(row.student.name)}</td>"
        ]
        for column in columns:
            cell = row.cell(column)
            key = (column.key, cell)
            html = seen.get(key)
            if html is None:
                html = seen[key] = cell_html(column.key, cell)
            parts.append(html)
        made.append((row, Markup("".join(parts))))
    return made


def cell_html(key: str, cell: Cell) -> str:
    """One grade cell (escaped)."""
    marked = " has-marks" if cell.marks or cell.open_flags else ""
    grade = "" if cell.grade is None else str(cell.grade)
    parts = [
        f'<td class="num grade{marked}" data-assignment="{escape(key)}" data-grade="{grade}">',
        '<span class="muted">—</span>'
        if cell.grade is None
        else f'<span class="score">{grade}</span>',
    ]
    if cell.penalty:
        parts.append(
            f' <span class="mark mark-penalty" title="raw {cell.raw}, penalty {cell.penalty}">'
            f"(\N{MINUS SIGN}{cell.penalty})</span>"
        )
    parts.extend(
        f' <span class="badge mark mark-{escape(m)}">{escape(m)}</span>' for m in cell.marks
    )
    if cell.open_flags:
        said = escape("; ".join(cell.open_flags))
        parts.append(
            f' <span class="badge badge-flag mark mark-flagged" title="{said}">⚑ flagged'
            f'<span class="visually-hidden">: {said}</span></span>'
        )
    parts.append("</td>")
    return "".join(parts)
