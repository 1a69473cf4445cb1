"""The model student grades and submits; the instructor's gradebook shows that score."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests

from devlab.model_student import MYSQL_PASSWORD
from devlab.server.classroom import COURSE, INSTRUCTOR, Classroom
from tests.engine.conftest import run_grade

pytestmark = pytest.mark.engine


def test_a_submitted_report_reaches_the_gradebook_even_after_an_outage(
    completed_lab, grade, tmp_path
) -> None:
    classroom = Classroom(tmp_path / "server").set_up()
    outbox_home = {"XDG_DATA_HOME": str(tmp_path / "data"), "GRADER_TOKEN": classroom.token}
    outbox = tmp_path / "data" / "grade" / "outbox"

    # the server is down: the report waits in the outbox, grade says so and exits 3
    down = grade("--submit", "http://127.0.0.1:9", env=outbox_home)
    assert down.exit_code == 3
    assert "not submitted" in down.stderr and str(outbox) in down.stderr
    assert classroom.token not in down.stdout + down.stderr
    assert len(list(outbox.glob("*.xml"))) == 1

    url = classroom.serve()
    try:
        up = grade("--submit", url, env=outbox_home)
        assert up.exit_code == 0, up.stderr
        assert "submitted: score 28/28" in up.stdout + up.stderr
        assert list(outbox.glob("*.xml")) == []
        assert classroom.grade_in_gradebook() == "28"
    finally:
        classroom.stop()


def test_a_real_report_passes_every_cross_check_and_holds_no_secret(
    completed_lab, grade, tmp_path
) -> None:
    classroom = Classroom(tmp_path / "server").set_up()
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "GRADER_TOKEN": classroom.token}
    url = classroom.serve()
    try:
        graded = grade("--json", "--submit", url, env=env)
        assert graded.exit_code == 0, graded.stderr
        first = _submission(url, classroom.token, 1)
        again = grade("--submit", url, env=env)  # the same machine again: still no flag
        assert again.exit_code == 0, again.stderr
        second = _submission(url, classroom.token, 2)
    finally:
        classroom.stop()
    for submission in (first, second):
        assert submission["flags"] == [], submission["flags"]
        assert submission["source"] == "self" and submission["score"] == 28
    stored = what_the_server_stored(tmp_path / "server" / "grader.sqlite")
    assert "mydb" in stored  # the dump holds the report
    for where in (graded.stdout, json.dumps(first), stored):
        assert MYSQL_PASSWORD not in where


def what_the_server_stored(database: Path) -> str:
    """Every row of every table, as text, but the assignments' rubrics: those are the
    instructor's documents, whose hints quote the lab's own example password (the one the
    model student uses), not anything read from the student's machine."""
    with sqlite3.connect(database) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if name != "assignment_rubric"
        ]
        return "\n".join(
            repr(row) for table in tables for row in connection.execute(f'SELECT * FROM "{table}"')
        )


def test_an_instructor_verifies_a_students_machine_over_ssh(remote_hosts, tmp_path) -> None:
    classroom = Classroom(tmp_path / "server", student_id="s-complete").set_up()
    classroom.grade_server("course", "add-instructor", COURSE, INSTRUCTOR[0])
    token = classroom.grade_server("instructor", "token", INSTRUCTOR[0]).strip()
    host = remote_hosts.complete
    url = classroom.serve()
    try:
        verified = run_grade(
            "--host", host.ssh_url(), "--ssh-config", str(remote_hosts.ssh_config),
            "--submit", url, "--student", f"{COURSE}/s-complete", "--json",
            home=tmp_path, env={"GRADER_TOKEN": token, "XDG_DATA_HOME": str(tmp_path / "d")},
        )  # fmt: skip
        assert verified.exit_code == 0, verified.stderr
        stored = requests.get(f"{url}/api/v1/submissions/1", auth=INSTRUCTOR, timeout=10).json()
    finally:
        classroom.stop()
    assert (stored["student_id"], stored["source"]) == ("s-complete", "verified")
    assert stored["verified_by"] == INSTRUCTOR[0] and stored["score"] == 28
    assert stored["flags"] == []


def _submission(url: str, token: str, number: int) -> dict[str, Any]:
    answer = requests.get(
        f"{url}/api/v1/submissions/{number}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def test_two_assignments_of_the_lab_file_a_report_under_the_one_the_student_names(
    completed_lab, grade, tmp_path
) -> None:
    """Issue 19, with the real ``grade --submit``: a course that runs the Docker lab twice (the
    first try, then a retake) cannot tell which one a report is for; it is refused in one
    line naming the choices, and waits in the outbox. ``--assignment retake`` files it there."""
    classroom = Classroom(tmp_path / "server").set_up()
    classroom.grade_server(
        "assignment", "create", COURSE, "retake", "--lab", "docker_beginners", "--title", "Retake"
    )
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "GRADER_TOKEN": classroom.token}
    outbox = tmp_path / "data" / "grade" / "outbox"
    url = classroom.serve()
    try:
        unnamed = grade("--submit", url, env=env)
        assert unnamed.exit_code != 0
        said = unnamed.stdout + unnamed.stderr
        assert "cannot file this report yet" in said and "retake" in said, said
        assert len(list(outbox.glob("*.xml"))) == 1  # it waits

        named = grade("--submit", url, "--assignment", "retake", env=env)
        assert named.exit_code == 0, named.stderr  # this one is filed...
        said = named.stdout + named.stderr
        assert "submitted: score 28/28" in said and "still wait" in said, said
        assert len(list(outbox.glob("*.xml"))) == 1  # ...the first still waits for its slug
    finally:
        classroom.stop()
    assert filed_under(tmp_path / "server" / "grader.sqlite") == ["retake"]


def filed_under(database: Path) -> list[str]:
    """The slug of the assignment each stored report was filed under, in arrival order."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT assignment.slug FROM submission"
            " JOIN assignment ON assignment.id = submission.assignment_id ORDER BY submission.id"
        )
        return [slug for (slug,) in rows]
