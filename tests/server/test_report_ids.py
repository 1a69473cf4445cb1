"""Report-id squatting (issue 20, item 9): report ids are unique per student.

A student who posts another's report id first (their future one, or their very bytes) no
longer makes the owner's report a 409 (which ``grade`` files as rejected): the owner's is
stored. The same bytes from two students are a copy, flagged ``same_body`` on the later
report, naming the first. On a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient

from devlab.server.enrolment import Classroom
from devlab.server.reports import Lab, make_report, report_xml
from webhook.storage.models import Submission

from .test_api import count, post
from .test_crosscheck import exported, flags_of, shown


def test_a_squatted_report_id_does_not_refuse_its_owner(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    annes = make_report()
    squat = replace(make_report(failing=("hello.runs",)), report_id=annes.report_id)
    first = post(client, report_xml(squat), classroom.bearer("bob"))
    assert first.status_code == 201 and first.json["flags"] == []
    owner = post(client, report_xml(annes), classroom.bearer("ann"))
    assert owner.status_code == 201, owner.json  # was 409: "report id ... is already taken"
    assert owner.json["flags"] == [] and owner.json["report_id"] == annes.report_id
    again = post(client, report_xml(annes), classroom.bearer("ann"))
    assert again.status_code == 200 and again.json["id"] == owner.json["id"]  # the same one
    assert count(classroom.url, Submission) == 2
    # Each student reads their own under the database's id, and not the other's.
    mine = client.get(f"/api/v1/submissions/{owner.json['id']}", headers=classroom.bearer("ann"))
    assert mine.status_code == 200 and mine.json["score"] == 28
    theirs = client.get(f"/api/v1/submissions/{first.json['id']}", headers=classroom.bearer("ann"))
    assert theirs.status_code == 404
    assert exported(app, classroom) == {"ann": ("28", ""), "bob": ("26", "")}


def test_the_same_bytes_from_another_student_are_stored_and_flagged_as_a_copy(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    body = report_xml(host=Lab())
    first = post(client, body, classroom.bearer("ann"))
    assert first.status_code == 201 and first.json["flags"] == []
    copy = post(client, body, classroom.bearer("bob"))
    assert copy.status_code == 201, copy.json  # was 409
    assert sorted(copy.json["flags"]) == ["same_body", "shared_evidence"]
    again = post(client, body, classroom.bearer("bob"))
    assert again.status_code == 200 and again.json["id"] == copy.json["id"]
    assert flags_of(shown(client, classroom, first.json["id"])) == []
    assert sorted(flags_of(shown(client, classroom, copy.json["id"]))) == [
        ("same_body", "ann", "open"),
        ("shared_evidence", "ann", "open"),
    ]
    assert (
        "the same report, byte for byte, as ann's"
        in shown(client, classroom, copy.json["id"])["flag_reason"]
    )
    grades = exported(app, classroom)
    assert grades["ann"] == ("28", "") and grades["bob"][0] == ""
