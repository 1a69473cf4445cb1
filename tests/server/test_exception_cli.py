"""``grade-server assignment set|extend|excuse|override``: what each does to the grade the
exports and the LMS passback read, that each change reaches the LMS's hook, and that every
refusal is one line and an exit code with nothing changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, select

from devlab.server.enrolment import Classroom
from devlab.server.reports import report_xml
from submissions.rubric import shipped_rubric
from webhook.cli.errors import EXIT_BAD_VALUE, EXIT_NOT_FOUND
from webhook.grade_events import add_listener
from webhook.storage.db import make_engine
from webhook.storage.models import Assignment, AssignmentException, Student

from .test_api import post
from .test_assignment_cli import refused
from .test_crosscheck import exported
from .test_late_and_exceptions import FULL, decisions, passed_back

SLUG = ("docker-101", "docker_beginners")  # the course's one assignment, of the shipped lab


def cli(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["assignment", *args])
    assert result.exit_code == 0, result.output
    return result.output


def stored(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every assignment's and every exception's row: what a refusal must leave alone."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assignments = connection.execute(select(Assignment).order_by(Assignment.id)).all()
            made = connection.execute(
                select(AssignmentException).order_by(AssignmentException.id)
            ).all()
            return [tuple(row) for row in assignments], [tuple(row) for row in made]
    finally:
        engine.dispose()


def told(app: Flask) -> list[int]:
    """The students the grade-change hook is told about, in order (the LMS passback listens)."""
    students: list[int] = []

    def listener(connection: Connection, student_pk: int) -> None:
        students.append(student_pk)

    add_listener(app, listener)
    return students


def pk(url: str, student: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.scalar(select(Student.id).where(Student.student_id == student))
            assert found is not None
            return found
    finally:
        engine.dispose()


def test_an_override_wins_everywhere_and_removing_it_restores_the_policys_grade(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    for who in ("ann", "bob"):
        assert post(client, report_xml(), classroom.bearer(who)).status_code == 201
    changed = told(app)
    cli(runner, "override", *SLUG, "ann", "10", "--note", "regraded by hand", "--by", "prof-x")
    assert exported(app, classroom)["ann"] == ("10", "")
    assert exported(app, classroom)["bob"] == (str(FULL), "")
    assert passed_back(app, classroom.url) == {"ann": 10, "bob": FULL}
    ann = decisions(classroom.url)["ann"].decision
    assert (ann.raw, ann.grade, ann.marks) == (FULL, 10, ("overridden",))
    assert changed == [pk(classroom.url, "ann")]

    cli(runner, "override", *SLUG, "ann", "--remove", "--note", "a mistake", "--by", "prof-y")
    assert exported(app, classroom)["ann"] == (str(FULL), "")
    assert passed_back(app, classroom.url) == {"ann": FULL, "bob": FULL}
    assert changed == [pk(classroom.url, "ann")] * 2

    shown = cli(runner, "show", *SLUG)
    assert "override 10\tann\t" in shown and "by prof-x\tregraded by hand\tremoved " in shown
    assert "by prof-y: a mistake" in shown


def test_an_excused_student_has_an_empty_grade_until_undone(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    assert post(client, report_xml(), classroom.bearer("ann")).status_code == 201
    cli(runner, "excuse", *SLUG, "ann", "--note", "medical leave")
    assert exported(app, classroom)["ann"] == ("", "")
    assert passed_back(app, classroom.url)["ann"] is None
    assert decisions(classroom.url)["ann"].decision.marks == ("excused",)
    cli(runner, "excuse", *SLUG, "ann", "--undo", "--note", "back")
    assert exported(app, classroom)["ann"] == (str(FULL), "")


def test_set_and_extend_by_the_command_line(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    for who in ("ann", "bob"):
        assert post(client, report_xml(), classroom.bearer(who)).status_code == 201
    changed = told(app)
    closes = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    said = cli(runner, "set", *SLUG, "--closes", closes, "--late-policy", "penalty:per-day=10%")
    assert "late policy penalty:grace=0,per-day=10%,floor=0%" in said
    assert sorted(changed) == sorted(pk(classroom.url, who) for who in ("ann", "bob"))
    cli(runner, "extend", *SLUG, "ann", "--days", "2", "--note", "accommodation")
    assert passed_back(app, classroom.url) == {"ann": FULL, "bob": FULL - FULL // 10}
    cli(runner, "extend", *SLUG, "ann", "--remove", "--note", "ended")
    assert passed_back(app, classroom.url)["ann"] == FULL - FULL // 10


def test_each_bad_input_is_one_line_and_its_exit_code_and_changes_nothing(
    runner: FlaskCliRunner, classroom: Classroom
) -> None:
    close = "2026-12-08T09:00"
    cli(runner, "set", *SLUG, "--closes", close)
    before = stored(classroom.url)
    cases: list[tuple[list[str], int, str]] = [
        (["override", *SLUG, "zed", "10", "--note", "x"], EXIT_NOT_FOUND, "no student 'zed'"),
        (["extend", *SLUG, "zed", "--days", "1", "--note", "x"], EXIT_NOT_FOUND, "no student"),
        (["override", *SLUG, "ann", "999", "--note", "x"], EXIT_BAD_VALUE, "above the"),
        (["override", *SLUG, "--note", "x", "--", "ann", "-1"], EXIT_BAD_VALUE, "below 0"),
        (["override", *SLUG, "ann", "10", "--note", "  "], EXIT_BAD_VALUE, "needs a note"),
        (["excuse", *SLUG, "ann", "--note", ""], EXIT_BAD_VALUE, "needs a note"),
        (["extend", *SLUG, "ann", "--until", "2026-12-01", "--note", "x"], EXIT_BAD_VALUE,
         "is not after the assignment's close"),
        (["extend", *SLUG, "ann", "--days", "0", "--note", "x"], EXIT_BAD_VALUE, "at least 1"),
        (["extend", *SLUG, "ann", "--note", "x"], EXIT_BAD_VALUE, "--until WHEN or --days N"),
        (["set", *SLUG, "--late-policy", "penalty:per-day=0%"], EXIT_BAD_VALUE, "per-day"),
        (["set", *SLUG, "--late-policy", "lenient"], EXIT_BAD_VALUE, "--late-policy"),
        (["set", *SLUG, "--opens", "2026-12-09"], EXIT_BAD_VALUE, "before it opens"),
        (["create", SLUG[0], "again", "--lab", "docker_beginners", "--late-policy", "x"],
         EXIT_BAD_VALUE, "--late-policy"),
        (["override", SLUG[0], "nope", "ann", "10", "--note", "x"], EXIT_NOT_FOUND, "nope"),
    ]  # fmt: skip
    for args, code, said in cases:
        refused(runner, ["assignment", *args], code, said)
    assert stored(classroom.url) == before


def test_a_rubric_below_an_override_is_refused_until_the_override_is_settled(
    runner: FlaskCliRunner, classroom: Classroom, tmp_path: Path
) -> None:
    cli(runner, "override", *SLUG, "ann", str(FULL), "--note", "full marks by hand")
    document = shipped_rubric().to_dict()
    document["checks"][0]["points"] -= 1
    smaller = tmp_path / "smaller.json"
    smaller.write_text(json.dumps(document))
    before = stored(classroom.url)
    refused(runner, ["assignment", "rubric", *SLUG, str(smaller)], EXIT_BAD_VALUE, "(ann: ")
    assert stored(classroom.url) == before
    assert "rubric v2" not in cli(runner, "show", *SLUG)
    cli(runner, "override", *SLUG, "ann", "--remove", "--note", "settled")
    assert "rubric v2" in runner.invoke(args=["assignment", "rubric", *SLUG, str(smaller)]).output
