"""The course's Canvas file read as Canvas's gradebook importer reads it, the open flags file, and
one assignment's Moodle file from the same rows.

:func:`read_as_canvas` is written from Canvas's documented import rules, not from our writer:

* the header row names the student first: ``Student, ID, SIS User ID, SIS Login ID,
  Section`` (Canvas's own export; its importer wants ``Student`` then ``ID`` first and
  ``Section`` last among them);
* every other column is an assignment, ``Title (id)``, and Canvas makes a **new
  assignment of every column it does not know** (so no note columns such as ``Open
  flags``; Canvas's read-only columns such as ``Current Score`` are no assignment either);
* an optional ``Points Possible`` row comes right after the header;
* then one row per student, each assignment cell a number or empty (empty: unchanged).
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from submissions.canvas import FLAGS_HEADER, canvas_csv, flags_csv, header, title_problem
from submissions.gradesheet import Cell, Column, Person, Row, cell
from submissions.moodle import moodle_csv
from submissions.scoring import Decision

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ASSIGNMENT = re.compile(r"(.*\S)\s+\((\d+)\)")
NUMBER = re.compile(r"\d+(\.\d+)?")
#: Columns of Canvas's own export that its importer does not take as assignments.
CANVAS_READ_ONLY = re.compile(
    r"Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade"
    r"|Override Score|Override Grade|Override Status"
)


class NotCanvas(AssertionError):
    """The file breaks one of Canvas's import rules."""


def read_as_canvas(data: bytes) -> tuple[dict[str, float], dict[str, dict[str, str]]]:
    """Points possible by assignment id, and each student's cells by SIS User ID."""
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0][:5] != IDENTITY:
        raise NotCanvas(f"the header must begin with {IDENTITY}: {rows[:1]}")
    ids = []
    for title in rows[0][5:]:
        found = ASSIGNMENT.fullmatch(title)
        if found is None:
            raise NotCanvas(f"column {title!r} is not 'Title (id)': Canvas makes it an assignment")
        if CANVAS_READ_ONLY.search(title):
            raise NotCanvas(f"column {title!r} is one of Canvas's read-only columns")
        ids.append(found.group(2))
    if len(set(ids)) != len(ids):
        raise NotCanvas(f"two columns for one assignment: {ids}")
    body = rows[1:]
    points: dict[str, float] = {}
    if body and "Points Possible" in body[0][0]:
        possible = body.pop(0)
        if any(possible[1:5]):
            raise NotCanvas(f"the Points Possible row names a student: {possible[:5]}")
        for assignment, value in zip(ids, possible[5:], strict=True):
            if not NUMBER.fullmatch(value):
                raise NotCanvas(f"points possible {value!r} is not a number")
            points[assignment] = float(value)
    students: dict[str, dict[str, str]] = {}
    for row in body:
        if len(row) != len(rows[0]):
            raise NotCanvas(f"a row of {len(row)} cells under a header of {len(rows[0])}")
        if "Points Possible" in row[0]:
            raise NotCanvas(f"a student row Canvas reads as the points row: {row[0]!r}")
        if not row[2]:
            raise NotCanvas(f"a student without a SIS User ID: {row[:5]}")
        for value in row[5:]:
            if value and not NUMBER.fullmatch(value):
                raise NotCanvas(f"grade {value!r} of {row[2]} is neither a number nor empty")
        students[row[2]] = dict(zip(ids, row[5:], strict=True))
    return points, students


LAB1 = Column("lab1", "Docker basics", 28, canvas_id=1201)
LAB2 = Column("tiny", "Tiny lab", 3, canvas_id=1202)
ADA = Person("Ada King Lovelace", "s1", "ada@example.edu", "Mon")
BOB = Person('=HYPERLINK("x")', "s2", "+bob@example.edu")
CY = Person("Cy", "s3", "cy@example.edu")


def course() -> list[Row]:
    """Three students' rows, built when a test runs (so a mutant of Cell.of reaches them)."""
    late = Cell(26, raw=28, penalty=2, marks=("late", "extended"))
    overridden = Decision(2, raw=1, penalty=0, report_id=4, late=True, overridden=True)
    return [
        Row(ADA, {"lab1": late, "tiny": Cell(3, raw=3)}),
        Row(BOB, {"lab1": Cell(None, open_flags=("no evidence", "shared evidence with s3"))}),
        Row(CY, {"tiny": Cell.of(overridden, ("future report", "same body"))}),
    ]


def test_the_course_file_is_what_canvas_imports() -> None:
    data = canvas_csv([LAB1, LAB2], course())
    points, students = read_as_canvas(data)
    assert points == {"1201": 28, "1202": 3}
    assert students == {
        "s1": {"1201": "26", "1202": "3"},
        "s2": {"1201": "", "1202": ""},
        "s3": {"1201": "", "1202": "2"},
    }
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == [*IDENTITY, "Docker basics (1201)", "Tiny lab (1202)"]
    assert rows[2][:5] == ["Lovelace, Ada King", "", "s1", "ada@example.edu", "Mon"]
    assert rows[3][:4] == ['\'=HYPERLINK("x")', "", "s2", "'+bob@example.edu"]  # no formula
    assert data.endswith(b"\r\n") and b"Open flags" not in data


def test_the_reader_refuses_a_column_canvas_would_make_an_assignment_of() -> None:
    today = (
        b"Student,ID,SIS User ID,SIS Login ID,Section,Open flags,Docker 101 lab\r\n"
        b"Points Possible,,,,,,28\r\nLovelace Ada,,s1,ada@example.edu,,no evidence,\r\n"
    )
    with pytest.raises(NotCanvas, match="'Open flags' is not 'Title \\(id\\)'"):
        read_as_canvas(today)
    with pytest.raises(NotCanvas, match="neither a number nor empty"):
        read_as_canvas(b"Student,ID,SIS User ID,SIS Login ID,Section,Lab (1)\r\nA,,s1,a,,late\r\n")


def test_a_column_canvas_does_not_know_yet_is_titled_alone() -> None:
    assert header(Column("lab1", " Docker basics ", 28)) == "Docker basics"
    # Canvas would read "Lab (3)" as assignment 3, whatever that is in the course.
    assert header(Column("lab3", "Lab (3)", 28)) == "Lab [3]"
    assert header(Column("lab3", "Lab (3)", 28, canvas_id=77)) == "Lab (3) (77)"
    assert header(Column("lab4", "Lab\n4", 28, canvas_id=78)) == "Lab 4 (78)"  # one line


def test_titles_canvas_would_skip_are_named_before_the_assignment_is_made() -> None:
    assert title_problem("Docker basics") == ""
    long = "Final Grade project " + "x" * 60
    assert title_problem(long) == (
        f"Canvas's importer skips a column whose title holds 'Final Grade': {long[:60]!r}"
    )
    assert "'Section'" in title_problem("Section 2 lab")
    assert title_problem("  ") == "an assignment needs a title"


def test_a_student_named_points_possible_is_not_read_as_the_points_row() -> None:
    odd = Row(Person("Points Possible Smith", "s9", "p@example.edu"), {"lab1": Cell(5)})
    nameless = Row(Person(" ", "s8", "n@example.edu"), {"lab1": Cell(4)})
    data = canvas_csv([LAB1], [odd, nameless])
    _, students = read_as_canvas(data)
    assert students == {"s9": {"1201": "5"}, "s8": {"1201": "4"}}
    assert [row[0] for row in csv.reader(io.StringIO(data.decode()))][2:] == ["s9", "s8"]


def test_the_open_flags_and_the_penalty_go_in_a_second_file() -> None:
    rows = list(csv.reader(io.StringIO(flags_csv([LAB1, LAB2], course()).decode())))
    assert rows[0] == list(FLAGS_HEADER)
    assert rows[1] == [
        "Ada King Lovelace", "s1", "ada@example.edu", "Docker basics", "28", "2", "26",
        "late, extended", "",
    ]  # fmt: skip
    assert rows[3][3:] == [
        "Docker basics", "", "", "", "", "no evidence; shared evidence with s3",
    ]  # fmt: skip
    assert rows[6][3:] == [
        "Tiny lab", "1", "0", "2", "late, overridden", "future report; same body",
    ]  # fmt: skip
    assert len(rows) == 1 + 3 * 2


def test_moodle_gets_one_assignment_from_the_same_rows() -> None:
    rows = list(csv.reader(io.StringIO(moodle_csv(LAB2, course()).decode())))
    assert rows == [
        ["ID number", "Email address", "First name", "Last name", "Open flags", "Tiny lab"],
        ["s1", "ada@example.edu", "Ada", "King Lovelace", "", "3"],
        ["s2", "'+bob@example.edu", '\'=HYPERLINK("x")', "", "", ""],
        ["s3", "cy@example.edu", "Cy", "", "future report; same body", "2"],
    ]
    lab1 = list(csv.reader(io.StringIO(moodle_csv(LAB1, course()).decode())))
    assert lab1[2][4:] == ["no evidence; shared evidence with s3", ""]


names = st.text(max_size=30)
people = st.builds(Person, names, st.text(min_size=1, max_size=12).filter(str.strip), names, names)
cells = st.builds(Cell, st.none() | st.integers(0, 1000))


@given(
    st.lists(st.tuples(people, cells, cells), max_size=8),
    st.lists(
        st.text(min_size=1, max_size=20).filter(lambda t: t.strip() and not title_problem(t)),
        min_size=2,
        max_size=2,
    ),
)
def test_any_roster_makes_a_file_canvas_imports_with_its_grades(
    roster: list[tuple[Person, Cell, Cell]], titles: list[str]
) -> None:
    columns = [Column("a", titles[0], 10, 1), Column("b", titles[1], 20, 2)]
    rows = [Row(person, {"a": one, "b": two}) for person, one, two in roster]
    points, students = read_as_canvas(canvas_csv(columns, rows))
    assert points == {"1": 10, "2": 20}
    expected = {
        _sis(person): {"1": _text(one.grade), "2": _text(two.grade)} for person, one, two in roster
    }
    assert students == expected


def _sis(person: Person) -> str:
    """The SIS User ID as the file holds it: formula-guarded like every text cell."""
    return cell(person.student_id)


def _text(grade: int | None) -> str:
    return "" if grade is None else str(grade)
