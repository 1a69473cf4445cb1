"""Roster ids attacked with what makes two students out of one, or one nobody can see
(issue 11, finding 10): NFC and trimmed, control and format characters refused with the
line number, look-alikes refused, a BOM accepted from a file and on stdin alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from webhook.cli.errors import EXIT_BAD_INPUT
from webhook.storage.db import make_engine
from webhook.storage.models import Student

from .conftest import Classroom


def enrol_text(runner: FlaskCliRunner, text: str) -> tuple[int, str]:
    result = runner.invoke(args=["roster", "enrol", "docker-101", "-"], input=text)
    return result.exit_code, result.output


def roster_ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(select(Student.student_id)))
    finally:
        engine.dispose()


def test_ids_are_stored_nfc_and_trimmed(runner: FlaskCliRunner, classroom: Classroom) -> None:
    code, output = enrol_text(runner, "student_id,name\n  Jose\u0301  ,José\n\tzoe\t,Zoe\n")
    assert code == 0, output
    assert roster_ids(classroom.url) == sorted(["ann", "bob", "Jos\u00e9", "zoe"])


@pytest.mark.parametrize(
    ("student_id", "named"),
    [
        ("a\x00b", "U+0000"),
        ("a\u200bb", "U+200B (ZERO WIDTH SPACE)"),
        ("a\u202eb", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("a\u200fb", "U+200F (RIGHT-TO-LEFT MARK)"),
        ("a\x07b", "U+0007"),
        ("a\ufeffb", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("a\u2028b", "U+2028 (LINE SEPARATOR)"),
    ],
)
def test_invisible_and_control_characters_are_refused_with_the_line(
    runner: FlaskCliRunner, classroom: Classroom, student_id: str, named: str
) -> None:
    code, output = enrol_text(runner, f"student_id,name\nok1,Ok\n{student_id},X\n")
    assert code == EXIT_BAD_INPUT
    assert "-:3: student_id" in output and named in output
    assert roster_ids(classroom.url) == ["ann", "bob"]  # nothing enrolled


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        ("Jos\u00e9", "Jose\u0301", "appears twice"),  # NFC and NFD: the same once normalised
        ("carl", "\uff43\uff41\uff52\uff4c", "looks like 'carl'"),  # full-width
        ("dora", "DORA", "looks like 'dora'"),
        ("ﬁona", "fiona", "looks like 'ﬁona'"),  # the fi ligature
    ],
)
def test_look_alike_ids_in_one_roster_are_refused(
    runner: FlaskCliRunner, classroom: Classroom, first: str, second: str, said: str
) -> None:
    code, output = enrol_text(runner, f"student_id\n{first}\n{second}\n")
    assert code == EXIT_BAD_INPUT, output
    assert "-:3:" in output and said in output and "(line 2)" in output
    assert roster_ids(classroom.url) == ["ann", "bob"]


def test_an_id_that_looks_like_an_enrolled_one_is_refused(
    runner: FlaskCliRunner, classroom: Classroom
) -> None:
    code, output = enrol_text(runner, "student_id\nnew1\n\uff41\uff4e\uff4e\n")
    assert code == EXIT_BAD_INPUT
    assert "looks like 'ann', enrolled already" in output
    assert roster_ids(classroom.url) == ["ann", "bob"]


def test_control_characters_in_names_are_refused(
    runner: FlaskCliRunner, classroom: Classroom
) -> None:
    code, output = enrol_text(runner, "student_id,name,email\neve,Eve\x00,eve@example.edu\n")
    assert code == EXIT_BAD_INPUT
    assert "-:2: name has a control character, U+0000" in output


def test_a_bom_is_accepted_on_stdin_and_from_a_file(
    runner: FlaskCliRunner, classroom: Classroom, tmp_path: Path, app: Flask
) -> None:
    code, output = enrol_text(runner, "\ufeffstudent_id,name\ncat,Cat\n")
    assert code == 0, output
    roster = tmp_path / "roster.csv"
    roster.write_bytes("\ufeffstudent_id,name\ndan,Dan\n".encode())
    result = runner.invoke(args=["roster", "enrol", "docker-101", str(roster)])
    assert result.exit_code == 0, result.output
    assert roster_ids(classroom.url) == ["ann", "bob", "cat", "dan"]
