"""Late policies and per-student exceptions in the grade that everything reads (issue 19,
items 4 to 6): the exports, the LMS passback's computation and the late marks agree.

Real app over SQLite and PostgreSQL; reports sent through the API, then the assignment's
close moved before them (they were made and received after it: late).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from devlab.server.enrolment import Classroom
from devlab.server.reports import report_xml
from submissions.rubric import shipped_rubric
from webhook.lti.grades import student_grades
from webhook.storage.db import make_engine, make_session_factory, write_transaction
from webhook.storage.models import Assignment, Student
from webhook.storage.queries import assignment_grades
from webhook.storage.student_exceptions import set_exception

from .test_api import post
from .test_crosscheck import exported, shown

FULL = shipped_rubric().max_score


def sent_then_closed(client: FlaskClient, classroom: Classroom) -> dict[str, int]:
    """ann and bob each send a full report; then the assignment closed an hour before."""
    ids = {
        who: post(client, report_xml(), classroom.bearer(who)).json["id"] for who in ("ann", "bob")
    }
    set_assignment(classroom.url, closes_at=datetime.now(UTC) - timedelta(hours=1))
    return ids


def set_assignment(url: str, **values: Any) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(update(Assignment).values(**values))
    finally:
        engine.dispose()


def extend(url: str, student: str, until: datetime) -> None:
    engine = make_engine(url)
    try:
        with write_transaction(engine) as connection:
            assignment_id = connection.scalar(select(Assignment.id))
            student_pk = connection.scalar(select(Student.id).where(Student.student_id == student))
            assert assignment_id is not None and student_pk is not None
            set_exception(
                connection, assignment_id=assignment_id, student_pk=student_pk,
                kind="extension", until=until, note="accommodation", by="prof",
            )  # fmt: skip
    finally:
        engine.dispose()


def decisions(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            assignment = session.scalars(select(Assignment)).one()
            return {row.student.student_id: row for row in assignment_grades(session, assignment)}
    finally:
        engine.dispose()


def passed_back(app: Flask, url: str) -> dict[str, int | None]:
    """What the LTI passback computes for each student (webhook.lti.grades)."""
    engine = make_engine(url)
    try:
        with app.app_context(), make_session_factory(engine)() as session:
            return {  # the course's one assignment: its grade
                s.student_id: student_grades(session, s)[0][1]
                for s in session.scalars(select(Student))
            }
    finally:
        engine.dispose()


def test_an_extension_counts_in_full_where_another_student_is_late(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    ids = sent_then_closed(client, classroom)
    extend(classroom.url, "ann", datetime.now(UTC) + timedelta(days=1))

    # cutoff (every assignment's default, as before late policies): bob's late report is dropped
    assert exported(app, classroom)["ann"] == (str(FULL), "")
    assert exported(app, classroom)["bob"] == ("", "")
    assert passed_back(app, classroom.url) == {"ann": FULL, "bob": None}
    assert shown(client, classroom, ids["ann"])["late"] is False
    assert shown(client, classroom, ids["bob"])["late"] is True
    rows = decisions(classroom.url)
    assert rows["ann"].decision.marks == ("extended",)
    assert rows["bob"].decision.grade is None and rows["bob"].withheld

    # penalty: bob's report, late by an hour (one started day), loses 10 % (rounded down)
    set_assignment(classroom.url, late_policy="penalty:per-day=10%,floor=50%")
    penalised = FULL - FULL * 10 // 100
    assert exported(app, classroom)["ann"] == (str(FULL), "")
    assert exported(app, classroom)["bob"] == (str(penalised), "")
    assert passed_back(app, classroom.url) == {"ann": FULL, "bob": penalised}
    bob = decisions(classroom.url)["bob"].decision
    assert (bob.raw, bob.penalty, bob.grade, bob.marks) == (
        FULL,
        FULL - penalised,
        penalised,
        ("late",),
    )

    # none: late reports count in full
    set_assignment(classroom.url, late_policy="none")
    assert passed_back(app, classroom.url) == {"ann": FULL, "bob": FULL}


def test_a_report_made_before_the_close_and_sent_after_is_on_time(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    """grade --submit keeps a report in the outbox while the server is unreachable: its own
    date counts, when its evidence agrees with it."""
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sent = post(client, report_xml(created=made.isoformat()), classroom.bearer("ann")).json
    set_assignment(classroom.url, closes_at=made + timedelta(minutes=1))
    assert sent["flags"] == []
    assert shown(client, classroom, sent["id"])["late"] is False
    assert exported(app, classroom)["ann"] == (str(FULL), "")
