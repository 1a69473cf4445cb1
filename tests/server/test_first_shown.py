"""Flags as a weapon (issue 20, item 4): reusing a classmate's evidence flags the copy, not
the classmate.

The student whose report showed a piece of evidence first keeps counting; the later report
is flagged and names the first (the flag page shows the pair); a verified report (an
instructor's run) goes before any self-reported one, so a student's copy never holds back a
verified grade. ``course recheck`` finds the same, by order of first showing.
On a SQLite file and on PostgreSQL, through the API and the exports.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from devlab.server.enrolment import Classroom
from devlab.server.reports import Lab, report_xml
from webhook.storage.db import make_engine
from webhook.storage.models import EvidenceKey, Flag, Submission

from .test_api import post
from .test_crosscheck import exported, flags_of, shown
from .test_verified import STUDENT, cli, issue_token


def recheck(app: Flask, classroom: Classroom, *, from_scratch: bool = False) -> None:
    """``course recheck``; ``from_scratch``: as if every report was stored before the checks."""
    if from_scratch:
        engine = make_engine(classroom.url)
        try:
            with engine.begin() as connection:
                connection.execute(Flag.__table__.delete())
                connection.execute(EvidenceKey.__table__.delete())
                connection.execute(
                    update(Submission).values(dialect_version="", flagged=False, flag_reason="")
                )
        finally:
            engine.dispose()
    run = cli(app, "course", "recheck", classroom.course)
    assert run.exit_code == 0, run.output


def test_reusing_a_classmates_engine_id_flags_only_the_later_report(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    annes = Lab()
    first = post(client, report_xml(host=annes), classroom.bearer("ann"))
    assert first.status_code == 201 and first.json["flags"] == []
    # bob's own objects, but ann's engine id (read off her screen, say)
    borrowed = Lab(engine_id=annes.engine_id)
    copy = post(client, report_xml(host=borrowed), classroom.bearer("bob"))
    assert copy.status_code == 201 and copy.json["flags"] == ["shared_evidence"]
    again = post(client, report_xml(host=annes), classroom.bearer("ann"))  # ann goes on working
    assert again.status_code == 201 and again.json["flags"] == []

    for _ in range(3):  # at ingest, after a recheck, after a recheck from nothing: the same
        assert flags_of(shown(client, classroom, first.json["id"])) == []
        assert flags_of(shown(client, classroom, again.json["id"])) == []
        assert flags_of(shown(client, classroom, copy.json["id"])) == [
            ("shared_evidence", "ann", "open")
        ]
        assert (
            "shares evidence with ann: engine"
            in shown(client, classroom, copy.json["id"])["flag_reason"]
        )
        assert exported(app, classroom) == {
            "ann": ("28", ""),
            "bob": ("", "shared evidence with ann"),
        }
        recheck(app, classroom, from_scratch=_ > 0)


def test_a_students_copy_never_holds_back_a_verified_grade(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    made = cli(app, "instructor", "create", "ta", "--password-stdin", stdin="longenough\n")
    assert made.exit_code == 0, made.output
    assert cli(app, "course", "add-instructor", classroom.course, "ta").exit_code == 0
    ta = {"Authorization": f"Bearer {issue_token(app, 'ta')}", STUDENT: "docker-101/ann"}

    annes = Lab()
    verified = post(client, report_xml(host=annes), ta)
    assert verified.status_code == 201 and verified.json["flags"] == []
    copy = post(client, report_xml(host=annes), classroom.bearer("bob"))
    assert copy.status_code == 201 and copy.json["flags"] == ["shared_evidence"]

    # bob shows evidence of a machine first, self-reported; then the instructor verifies
    # that machine as ann's: the verified report goes first, and bob's is the copy.
    other = Lab()
    early = post(client, report_xml(host=other, failing=("hello.runs",)), classroom.bearer("bob"))
    assert early.status_code == 201 and early.json["flags"] == []
    checked = post(client, report_xml(host=other), ta)
    assert checked.status_code == 201 and checked.json["flags"] == []

    for _ in range(3):
        assert flags_of(shown(client, classroom, verified.json["id"])) == []
        assert flags_of(shown(client, classroom, checked.json["id"])) == []
        assert flags_of(shown(client, classroom, early.json["id"])) == [
            ("shared_evidence", "ann", "open")
        ]
        assert exported(app, classroom) == {
            "ann": ("28", ""),
            "bob": ("", "shared evidence with ann (2 reports)"),
        }
        recheck(app, classroom, from_scratch=_ > 0)
