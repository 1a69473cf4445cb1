"""The stored grades (issue 19, the course page's speed) never disagree with the computed ones.

A real app over SQLite and PostgreSQL goes through every kind of change that may move a
grade, each by its real entry point (the API's ingest, the gradebook's flag decision, the
CLI's exceptions, ``assignment set``, ``course set`` and ``recheck``, a rubric change and
its rescore, an enrolment); after each, every student's stored decision
(:mod:`webhook.storage.stored_grades`) must equal what
:func:`webhook.storage.queries.assignment_grades` computes, and the change must have moved
the grade it should (so the comparison is not between two empty tables). The course page
shows the stored grades.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from devlab.server.enrolment import Classroom, app_config, enrol
from devlab.server.reports import report_xml
from devlab.server.seeded import csrf_from
from submissions.rubric import shipped_rubric
from submissions.scoring import Decision
from webhook import create_app
from webhook.database import get_db
from webhook.grade_events import assignment_changed
from webhook.storage import stored_grades
from webhook.storage.db import write_transaction
from webhook.storage.grade_models import AssignmentGrade
from webhook.storage.models import Assignment, Course, Flag, Student
from webhook.storage.queries import NO_DECISION, assignment_grades

from .test_api import post

COURSE, SLUG = "docker-101", "docker_beginners"
FULL = shipped_rubric().max_score


def decisions(app: Flask) -> dict[str, Decision]:
    """Roster id → decision, after checking that every stored decision of every assignment,
    settled as the course page settles them (the reports since decided), is the computed
    one (a student without a row: no decision)."""
    found: dict[str, Decision] = {}
    with app.app_context():
        with get_db().session() as session:
            courses = session.scalars(select(Course.id)).all()
        for course_id in courses:
            stored_grades.settle(get_db().engine, course_id)
    with app.app_context(), get_db().session() as session:
        for assignment in session.scalars(select(Assignment).order_by(Assignment.id)):
            stored = stored_grades.read(session, [assignment.id])[assignment.id]
            for row in assignment_grades(session, assignment):
                kept = stored.get(row.student.id, NO_DECISION)
                assert kept == row.decision, (assignment.slug, row.student.student_id)
                found[row.student.student_id] = row.decision
    return found


def cli(runner: FlaskCliRunner, *args: str) -> None:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output


def login(client: FlaskClient, classroom_instructor: tuple[str, str]) -> str:
    """Log in; a CSRF token of the session."""
    username, password = classroom_instructor
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return csrf_from(client.get(f"/gradebook/{COURSE}/flags").get_data(as_text=True))


def page_grades(client: FlaskClient) -> dict[str, str]:
    """Roster id → the grade the course page shows."""
    page = client.get(f"/gradebook/{COURSE}/").get_data(as_text=True)
    return dict(re.findall(r'<tr data-student="([^"]+)">.*?data-grade="(\d*)"', page, re.S))


def test_every_change_keeps_the_stored_grades_equal_to_the_computed(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    classroom = enrol(app.config["DATABASE_URL"], students=("ann", "bob", "cy"))
    assert decisions(app) == dict.fromkeys(("ann", "bob", "cy"), NO_DECISION)

    # Ingest: ann all (28), bob one check failed, cy's checks edited (flagged: no grade).
    for who, xml in (
        ("ann", report_xml()),
        ("bob", report_xml(failing=("mydb.running",))),
        ("cy", report_xml(checks_digest="sha256:edited")),
    ):
        assert post(client, xml, classroom.bearer(who)).status_code == 201
    found = decisions(app)
    assert found["ann"].grade == FULL and found["bob"].grade == FULL - 2
    assert found["cy"].grade is None and found["cy"].raw is None

    # The gradebook: the instructor accepts cy's flag: the report counts.
    teacher = app.test_client()
    token = login(teacher, classroom.instructor)
    with app.app_context(), get_db().session() as session:
        flag_id = session.scalars(
            select(Flag.id)
            .join(Student, Student.id == Flag.student_pk)
            .where(Student.student_id == "cy")
        ).first()
    response = teacher.post(
        f"/gradebook/{COURSE}/flags/{flag_id}", data={"action": "accept", "csrf_token": token}
    )
    assert response.status_code == 302
    assert decisions(app)["cy"].grade == FULL
    assert page_grades(teacher) == {"ann": str(FULL), "bob": str(FULL - 2), "cy": str(FULL)}

    # The assignment's close moves before the reports, with a penalty: everyone is late.
    closed = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%MZ")
    cli(runner, "assignment", "set", COURSE, SLUG, "--closes", closed,
        "--late-policy", "penalty:grace=0m,per-day=10%,floor=50%")  # fmt: skip
    found = decisions(app)
    assert found["ann"].late and found["ann"].penalty > 0 and found["ann"].grade < FULL

    # Exceptions: ann's extension lifts the penalty; bob excused; cy overridden, then not.
    cli(runner, "assignment", "extend", COURSE, SLUG, "ann", "--days", "30", "--note", "doc")
    cli(runner, "assignment", "excuse", COURSE, SLUG, "bob", "--note", "ill")
    cli(runner, "assignment", "override", COURSE, SLUG, "cy", "7", "--note", "oral exam")
    found = decisions(app)
    assert found["ann"].grade == FULL and found["ann"].extended and not found["ann"].late
    assert found["bob"].grade is None and found["bob"].excused
    assert found["cy"].grade == 7 and found["cy"].overridden
    assert page_grades(teacher) == {"ann": str(FULL), "bob": "", "cy": "7"}
    cli(runner, "assignment", "override", COURSE, SLUG, "cy", "--remove", "--note", "undo")
    cli(runner, "assignment", "excuse", COURSE, SLUG, "bob", "--undo", "--note", "back")
    found = decisions(app)
    assert not found["cy"].overridden and found["cy"].late and not found["bob"].excused

    # A rubric change and its rescore: mydb.running worth 5 more.
    document = shipped_rubric().to_dict()
    for entry in document["checks"]:
        if entry["id"] == "mydb.running":
            entry["points"] += 5
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(document))
    before = decisions(app)
    cli(runner, "assignment", "rubric", COURSE, SLUG, str(path))
    cli(runner, "assignment", "rescore", COURSE, SLUG, "--apply")
    after = decisions(app)
    assert after["ann"].raw == before["ann"].raw + 5 and after["bob"] == before["bob"]

    # The course's dates (every assignment's) and a re-check of its flags.
    cli(runner, "course", "set", COURSE, "--closes-at", "none")
    found = decisions(app)
    assert found["cy"].grade == FULL + 5 and not found["cy"].late
    cli(runner, "course", "recheck", COURSE)
    assert decisions(app) == found

    # The roster: dan enrolled (nothing decided yet), then his first report.
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\ndan,Dan,dan@example.edu\n")
    result = runner.invoke(args=["roster", "enrol", COURSE, str(roster)])
    assert result.exit_code == 0, result.output
    assert decisions(app)["dan"] == NO_DECISION
    [dan_token] = re.findall(r"^dan,(\S+)$", result.stdout, re.M)
    headers = {"Authorization": f"Bearer {dan_token}"}
    assert post(client, report_xml(failing=("mydb.running",)), headers).status_code == 201
    assert decisions(app)["dan"].grade == FULL - 2
    assert page_grades(teacher)["dan"] == str(FULL - 2)


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    app = create_app(app_config(pg_url))
    yield app
    app.extensions["grader_db"].dispose()


def test_reports_of_one_student_at_once_leave_the_stored_grade_right_on_postgresql(
    pg_app: Flask,
) -> None:
    """Four reports of one student at once, three times: each transaction decides after the
    one before it committed (the evidence locks of ingest and the student's row lock of
    :func:`webhook.storage.stored_grades.refresh_student`), so the last to commit saw them all."""
    classroom = enrol(pg_app.config["DATABASE_URL"], students=("ann",))
    failing = [("mydb.running",), ("tweet.dockerfile",), (), ("mydb.running", "tweet.serves")]
    for _ in range(3):
        barrier = threading.Barrier(len(failing))
        with ThreadPoolExecutor(len(failing)) as pool:
            sent = pool.map(partial(_send, pg_app, classroom, barrier), failing)
            assert list(sent) == [201] * len(failing)
        assert decisions(pg_app)["ann"].grade == FULL  # and stored as computed


def _send(
    app: Flask, classroom: Classroom, barrier: threading.Barrier, failing: tuple[str, ...]
) -> int:
    client = app.test_client()
    body = report_xml(failing=failing)
    barrier.wait()  # every thread's request at once
    response = client.post(
        "/api/v1/submissions",
        data=body,
        headers={"Content-Type": "application/xml", **classroom.bearer("ann")},
    )
    return response.status_code


def test_an_assignment_change_stores_given_decisions_and_names_whose_grade_changed(
    app: Flask, client: FlaskClient
) -> None:
    """assignment_changed with the decisions a caller just made (a rescore's apply): they
    are stored as they are, and the students whose grade moved are the ones returned."""
    classroom = enrol(app.config["DATABASE_URL"], students=("ann", "bob"))
    for who, failing in (("ann", ()), ("bob", ("mydb.running",))):
        assert post(client, report_xml(failing=failing), classroom.bearer(who)).status_code == 201
    with app.app_context():
        engine = get_db().engine
        with write_transaction(engine) as connection:
            # cutoff: no report counts any more (on the connection first: the session joins)
            closed = datetime.now(UTC) - timedelta(days=1)
            connection.execute(update(Assignment).values(closes_at=closed))
            with Session(bind=connection) as session:
                assignment = session.scalars(select(Assignment)).one()
                bob = session.scalars(select(Student.id).where(Student.student_id == "bob")).one()
                decided = {
                    row.student.id: row.decision for row in assignment_grades(session, assignment)
                }
            decided[bob] = Decision(grade=3)  # stored as given, not decided again
            changed = assignment_changed(connection, assignment.id, decided)
        assert len(changed) == 2
    found = decisions_stored(app)
    assert found["ann"] == NO_DECISION and found["bob"] == Decision(grade=3)


def decisions_stored(app: Flask) -> dict[str, Decision]:
    with app.app_context(), get_db().session() as session:
        assignment = session.scalars(select(Assignment)).one()
        stored = stored_grades.read(session, [assignment.id])[assignment.id]
        students = session.execute(select(Student.id, Student.student_id)).all()
        return {sid: stored.get(pk, NO_DECISION) for pk, sid in students}


def stale(app: Flask) -> dict[str, bool]:
    """Roster id → whether the student's stored grade is marked stale."""
    with app.app_context(), get_db().session() as session:
        rows = session.execute(
            select(Student.student_id, AssignmentGrade.stale).join(
                Student, Student.id == AssignmentGrade.student_pk
            )
        )
        return {who: bool(flag) for who, flag in rows}


def test_a_report_marks_the_grade_stale_and_the_course_page_decides_it(
    app: Flask, client: FlaskClient
) -> None:
    """Ingest pays one statement per report (the row marked stale), not a decision; the
    course page decides the stale rows before it shows them, one by one or an assignment
    whole when many are stale."""
    classroom = enrol(app.config["DATABASE_URL"], students=("ann", "bob", "cy"))
    assert post(client, report_xml(), classroom.bearer("ann")).status_code == 201
    assert stale(app) == {"ann": True}  # marked, not decided

    teacher = app.test_client()
    login(teacher, classroom.instructor)
    assert page_grades(teacher) == {"ann": str(FULL), "bob": "", "cy": ""}
    assert stale(app) == {"ann": False}

    for who in ("ann", "bob"):
        xml = report_xml(failing=("mydb.running",), report_id=f"second-{who}")
        assert post(client, xml, classroom.bearer(who)).status_code == 201
    assert stale(app) == {"ann": True, "bob": True}
    with app.app_context():
        with get_db().session() as session:
            course_id = session.scalars(select(Course.id)).one()
        # two stale rows, "many" from two: the assignment decided whole
        assert stored_grades.settle(get_db().engine, course_id, many=2) == 2
        assert stored_grades.settle(get_db().engine, course_id) == 0
    assert not any(stale(app).values()) and {"ann", "bob"} <= set(stale(app))
    found = decisions(app)  # stored equals computed
    assert found["ann"].grade == FULL and found["bob"].grade == FULL - 2
