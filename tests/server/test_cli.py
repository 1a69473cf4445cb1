"""``grade-server``: its commands through Flask's runner, and the console script itself."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from devlab.server.enrolment import Classroom
from devlab.server.reports import Lab, report_xml
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, Student
from webhook.storage.tokens import hash_token

from .test_api import post

ROSTER = "student_id,name,email\ns1,Ada Lovelace,ada@example.edu\ns2,Alan Turing,alan@example.edu\n"


def tokens_of(output: str) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["student_id", "token"]
    return dict(rows[1:])


def students(url: str) -> dict[str, Student]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return {s.student_id: s for s in session.scalars(select(Student))}
    finally:
        engine.dispose()


def test_course_roster_and_tokens(runner: FlaskCliRunner, tmp_path: Path) -> None:
    url = runner.app.config["DATABASE_URL"]
    assert runner.invoke(args=["course", "create", "docker-101", "Docker 101"]).exit_code == 0
    again = runner.invoke(args=["course", "create", "docker-101", "Docker 101"])
    assert again.exit_code == 6 and "already exists" in again.output
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    enrolled = runner.invoke(args=["roster", "enrol", "docker-101", str(roster)])
    assert enrolled.exit_code == 0, enrolled.output
    tokens = tokens_of(enrolled.stdout)
    assert set(tokens) == {"s1", "s2"}
    stored = students(url)
    assert {sid: s.token_hash for sid, s in stored.items()} == {
        sid: hash_token(token) for sid, token in tokens.items()
    }
    assert all(token not in s.token_hash for s in stored.values() for token in tokens.values())

    roster.write_text(ROSTER + "s3,Grace Hopper,grace@example.edu\n")
    more = runner.invoke(args=["roster", "enrol", "docker-101", str(roster)])
    assert set(tokens_of(more.stdout)) == {"s3"}  # s1 and s2 keep their tokens
    assert students(url)["s1"].token_hash == hash_token(tokens["s1"])
    reset = runner.invoke(args=["roster", "enrol", "docker-101", str(roster), "--reset-tokens"])
    assert set(tokens_of(reset.stdout)) == {"s1", "s2", "s3"}
    assert students(url)["s1"].token_hash != hash_token(tokens["s1"])


@pytest.mark.parametrize(
    ("roster", "message"),
    [
        ("name,email\nAda,a@x\n", "must name a student_id column"),
        ("student_id,name\n,Ada\n", ":2: empty student_id"),
        ("student_id\ns1\ns1\n", ":3: student_id 's1' appears twice"),
    ],
)
def test_a_bad_roster_is_one_line_and_exit_4(
    runner: FlaskCliRunner, tmp_path: Path, roster: str, message: str
) -> None:
    runner.invoke(args=["course", "create", "c", "C"])
    path = tmp_path / "roster.csv"
    path.write_text(roster)
    result = runner.invoke(args=["roster", "enrol", "c", str(path)])
    assert result.exit_code == 4 and message in result.output
    assert result.output.count("\n") == 1


def test_unknown_course_is_exit_3(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    result = runner.invoke(args=["roster", "enrol", "nope", str(path)])
    assert result.exit_code == 3 and "no course 'nope'" in result.output
    assert runner.invoke(args=["grades", "export", "nope"]).exit_code == 3


def test_instructor_create(runner: FlaskCliRunner) -> None:
    made = runner.invoke(
        args=["instructor", "create", "prof2", "--password-stdin"], input="longenough\n"
    )
    assert made.exit_code == 0, made.output
    short = runner.invoke(
        args=["instructor", "create", "prof3", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 4
    twice = runner.invoke(
        args=["instructor", "create", "prof2", "--password-stdin"], input="longenough\n"
    )
    assert twice.exit_code == 6
    prompted = runner.invoke(
        args=["instructor", "create", "prof4"], input="longenough\nlongenough\n"
    )
    assert prompted.exit_code == 0


def test_grades_export_for_canvas_and_moodle(
    runner: FlaskCliRunner, classroom: Classroom, tmp_path: Path
) -> None:
    client = runner.app.test_client()
    host = Lab()
    post(client, report_xml(failing=("mydb.running",), host=host), classroom.bearer("ann"))
    post(client, report_xml(host=host), classroom.bearer("ann"))
    post(client, report_xml(failing=("tweet.serves",), host=host), classroom.bearer("ann"))
    canvas = runner.invoke(args=["grades", "export", classroom.course])
    assert canvas.exit_code == 0, canvas.output
    rows = list(csv.reader(io.StringIO(canvas.stdout)))
    # issue 19: no "Open flags" column (Canvas would make an assignment of it): see `flags`
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Docker 101 lab"]
    assert rows[1] == ["Points Possible", "", "", "", "", "28"]
    assert rows[2] == ["Ann", "", "ann", "ann@example.edu", "", "28"]
    assert rows[3] == ["Bob", "", "bob", "bob@example.edu", "", ""]
    out = tmp_path / "moodle.csv"
    moodle = runner.invoke(
        args=[
            "grades",
            "export",
            classroom.course,
            "--format",
            "moodle",
            "--grade",
            "latest",
            "-o",
            str(out),
        ]
    )
    assert moodle.exit_code == 0, moodle.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == [
        "ID number", "Email address", "First name", "Last name", "Open flags", "Docker 101 lab",
    ]  # fmt: skip
    assert rows[1] == ["ann", "ann@example.edu", "Ann", "", "", "26"]


def grade_server(
    *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("grade-server")
    return subprocess.run(
        [str(script), *args], env={**os.environ, **env}, input=stdin,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_console_script_end_to_end(tmp_path: Path) -> None:
    env = {
        "GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/grader.sqlite",
        "GRADER_SECRET_KEY": "x",
    }
    early = grade_server("course", "create", "c", "C", env=env)
    assert early.returncode == 5
    assert early.stderr.strip().splitlines() == [
        "Error: database not ready: the database has no tables yet: run `grade-server db upgrade`"
    ]
    assert grade_server("db", "upgrade", env=env).returncode == 0
    assert grade_server("db", "upgrade", env=env).returncode == 0  # again: nothing to do
    assert grade_server("course", "create", "c", "C", env=env).returncode == 0
    enrolled = grade_server("roster", "enrol", "c", "-", env=env, stdin=ROSTER)
    assert enrolled.returncode == 0 and set(tokens_of(enrolled.stdout)) == {"s1", "s2"}
    missing = grade_server("roster", "enrol", "c", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 4 and "Traceback" not in missing.stderr
    bad_env = grade_server("course", "create", "d", "D", env={**env, "GRADER_RATE_LIMIT": "lots"})
    assert bad_env.returncode == 7 and "GRADER_RATE_LIMIT='lots'" in bad_env.stderr
    assert "Traceback" not in bad_env.stderr
    help_text = grade_server("--help", env=env).stdout
    for command in ("run", "db", "course", "roster", "instructor", "grades"):
        assert command in help_text
    assert not (tmp_path / "instance").exists()


def test_unreachable_database_is_exit_5(tmp_path: Path) -> None:
    env = {
        "GRADER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "GRADER_SECRET_KEY": "x",
    }
    result = grade_server("db", "upgrade", env=env)
    assert result.returncode == 5 and "cannot upgrade the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_course_dates_are_set_and_cleared(runner: FlaskCliRunner) -> None:
    made = runner.invoke(
        args=["course", "create", "c", "C", "--opens-at", "2026-09-01",
              "--closes-at", "2026-12-20T18:00+01:00"]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "opens 2026-09-01 00:00:00 UTC, closes 2026-12-20 17:00:00 UTC" in made.output
    changed = runner.invoke(args=["course", "set", "c", "--closes-at", "none", "--name", "C2"])
    assert changed.exit_code == 0, changed.output
    assert "closes not set" in changed.output and "re-checked 0 report(s)" in changed.output
    engine = make_engine(runner.app.config["DATABASE_URL"])
    try:
        with make_session_factory(engine)() as session:
            course = session.scalars(select(Course)).one()
            assert (course.name, course.closes_at) == ("C2", None)
            assert course.opens_at is not None and course.opens_at.isoformat() == (
                "2026-09-01T00:00:00+00:00"
            )
    finally:
        engine.dispose()
    assert runner.invoke(args=["course", "recheck", "c"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["course", "create", "d", "D", "--opens-at", "next monday"], 8,
         "--opens-at 'next monday' is not an ISO 8601 time"),
        (["course", "create", "d", "D", "--opens-at", "2026-12-02", "--closes-at", "2026-12-01"],
         8, "would close (2026-12-01 00:00:00 UTC) before it opens"),
        (["course", "set", "c"], 8, "say what to change"),
        (["course", "set", "c", "--closes-at", "soon"], 8,
         "--closes-at 'soon' is not an ISO 8601 time or none"),
        (["course", "set", "c", "--opens-at", "2027-01-01"], 8, "would close"),
        (["course", "set", "c", "--name", " "], 8, "--name must not be empty"),
        (["course", "set", "nope", "--name", "x"], 3, "no course 'nope'"),
        (["course", "recheck", "nope"], 3, "no course 'nope'"),
    ],
)  # fmt: skip
def test_bad_course_options_are_one_line_and_their_exit_code(
    runner: FlaskCliRunner, args: list[str], code: int, message: str
) -> None:
    runner.invoke(args=["course", "create", "c", "C", "--closes-at", "2026-12-20"])
    result = runner.invoke(args=args)
    assert result.exit_code == code, result.output
    assert message in result.output and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_the_console_script_says_a_bad_time_in_one_line(tmp_path: Path) -> None:
    env = {"GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite", "GRADER_SECRET_KEY": "x"}
    assert grade_server("db", "upgrade", env=env).returncode == 0
    bad = grade_server("course", "create", "c", "C", "--closes-at", "friday", env=env)
    assert bad.returncode == 8 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        "Error: --closes-at 'friday' is not an ISO 8601 time"
    ]


def test_the_help_shows_the_tools_own_options_and_commands(tmp_path: Path) -> None:
    env = {"GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite", "GRADER_SECRET_KEY": "x"}
    shown = grade_server("--help", env=env)
    assert shown.returncode == 0 and shown.stderr == ""
    for flasks in ("--env-file", "--app", "--debug", "python-dotenv", "FLASK"):
        assert flasks not in shown.stdout
    options, commands = shown.stdout.split("Options:")[1].split("Commands:")
    assert options.split() == ["--help", "Show", "this", "message", "and", "exit."]
    listed = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert listed == {"assignment", "course", "db", "grades", "instructor", "lti", "roster", "run"}
