"""Cross-checks at ingest, through the API, on a SQLite file and on PostgreSQL.

Hand-typed and copied reports are stored (201) but flagged, and the exports hold their
grades back until the instructor decides; honest students are never flagged.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from devlab.server.enrolment import Classroom
from devlab.server.reports import Lab, hand_typed, make_report, report_xml
from submissions.reader import read_report
from webhook.crosscheck import decisions
from webhook.storage.db import make_engine, write_transaction
from webhook.storage.models import Assignment, Course, EvidenceKey, Flag, Submission

from .test_api import post


def instructor(classroom: Classroom) -> dict[str, str]:
    user, password = classroom.instructor
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def shown(client: FlaskClient, classroom: Classroom, submission_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/submissions/{submission_id}", headers=instructor(classroom))
    assert response.status_code == 200, response.json
    data: dict[str, Any] = response.json
    return data


def flags_of(data: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(f["kind"], f["other_student"], f["status"]) for f in data["flags"]]


def exported(app: Flask, classroom: Classroom, *options: str) -> dict[str, tuple[str, str]]:
    """Roster id → (grade, open flags) in every export (which must agree): Moodle's file, and
    Canvas's with its flags file (issue 19: Canvas's own file holds grades only)."""
    runner = app.test_cli_runner()
    made = {
        fmt: runner.invoke(args=["grades", "export", classroom.course, "--format", fmt, *options])
        for fmt in ("canvas", "flags", "moodle")
    }
    assert all(r.exit_code == 0 for r in made.values()), [r.output for r in made.values()]
    rows = {fmt: list(csv.reader(io.StringIO(r.stdout))) for fmt, r in made.items()}
    by_moodle = {r[0]: (r[5], r[4]) for r in rows["moodle"][1:]}
    by_flags = {r[1]: (r[6], r[8]) for r in rows["flags"][1:]}  # one assignment: a row each
    by_canvas = {r[2]: r[5] for r in rows["canvas"][2:]}
    assert by_flags == by_moodle
    assert by_canvas == {who: grade for who, (grade, _) in by_moodle.items()}
    return by_moodle


def decide(url: str, course: str, flag_id: int, action: str, note: str = "") -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            course_id = connection.scalar(select(Course.id).where(Course.slug == course))
        with write_transaction(engine) as connection:
            assert course_id is not None
            decisions.decide(connection, course_id=course_id, flag_id=flag_id, action=action,
                             note=note, by="prof")  # fmt: skip
    finally:
        engine.dispose()


def test_the_hand_typed_report_is_kept_flagged_and_not_counted(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    response = post(client, hand_typed(), classroom.bearer("ann"))
    assert response.status_code == 201, response.json
    assert response.json["score"] == 28  # the server scores what it was sent ...
    assert response.json["flagged"] is True and response.json["flags"] == ["no_evidence"]
    again = post(client, hand_typed(), classroom.bearer("ann"))
    assert again.status_code == 200 and again.json["flags"] == ["no_evidence"]
    data = shown(client, classroom, response.json["id"])
    assert flags_of(data) == [("no_evidence", None, "open")]
    assert "first dialect" in data["flag_reason"] and data["dialect_version"] == "1"
    # ... and counts none of it.
    assert exported(app, classroom)["ann"] == ("", "no evidence")
    assert exported(app, classroom, "--include-flagged")["ann"] == ("28", "no evidence")


def test_a_copied_report_is_flagged_naming_the_first_until_the_instructor_decides(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    real = make_report(failing=("figlet.committed",))
    first = post(client, report_xml(real), classroom.bearer("ann"))
    assert first.status_code == 201 and first.json["flagged"] is False
    assert exported(app, classroom)["ann"] == ("26", "")

    copy = replace(real, report_id="a-new-id-for-the-copy")
    second = post(client, report_xml(copy), classroom.bearer("bob"))
    assert second.status_code == 201 and second.json["flags"] == ["shared_evidence"]

    ann, bob = (shown(client, classroom, r.json["id"]) for r in (first, second))
    assert flags_of(ann) == []  # she showed it first: her grade stands
    assert flags_of(bob) == [("shared_evidence", "ann", "open")]
    assert "shares evidence with ann: engine" in bob["flag_reason"]
    assert exported(app, classroom) == {"ann": ("26", ""), "bob": ("", "shared evidence with ann")}
    # A student sees that their report shares evidence, not with whom.
    own = client.get(f"/api/v1/submissions/{second.json['id']}", headers=classroom.bearer("bob"))
    assert own.json["flags"] == [
        {"kind": "shared_evidence", "status": "open",
         "reason": own.json["flags"][0]["reason"]}
    ]  # fmt: skip
    assert "ann" not in own.get_data(as_text=True)
    assert "another student" in own.json["flag_reason"]

    decide(classroom.url, classroom.course, bob["flags"][0]["id"], "accept", "a shared lab VM")
    assert exported(app, classroom) == {"ann": ("26", ""), "bob": ("26", "")}
    bob = shown(client, classroom, second.json["id"])
    assert flags_of(bob) == [("shared_evidence", "ann", "accepted")]
    assert (bob["flags"][0]["decided_by"], bob["flags"][0]["note"]) == ("prof", "a shared lab VM")
    assert bob["flags"][0]["decided_at"] is not None and not bob["flagged"]
    decide(classroom.url, classroom.course, bob["flags"][0]["id"], "reject", "copied")
    bob = shown(client, classroom, second.json["id"])
    assert bob["rejected"] is True and flags_of(bob) == [("shared_evidence", "ann", "rejected")]
    # A rejected report never counts, not even when flagged reports are asked for.
    assert exported(app, classroom, "--include-flagged")["bob"] == ("", "")


def test_a_later_copy_is_flagged_once_naming_the_first(
    client: FlaskClient, classroom: Classroom
) -> None:
    lab = Lab()
    earlier = [post(client, report_xml(host=lab), classroom.bearer("ann")).json for _ in range(3)]
    assert not any(r["flagged"] for r in earlier)
    copy = post(client, report_xml(host=lab), classroom.bearer("bob")).json
    assert copy["flags"] == ["shared_evidence"]
    for report in earlier:
        assert flags_of(shown(client, classroom, report["id"])) == []
    # bob's report: one flag naming ann, however many of her reports it shares with.
    assert flags_of(shown(client, classroom, copy["id"])) == [("shared_evidence", "ann", "open")]
    post(client, report_xml(host=lab), classroom.bearer("bob"))
    assert count_flags(classroom.url, kind="shared_evidence") == 2


def count_flags(url: str, **where: Any) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(Flag).filter_by(**where)
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()


def test_one_student_many_reports_from_one_engine_are_not_flagged(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    lab = Lab()
    for failing in (("mydb.running", "hello.runs"), ("hello.runs",), ()):
        response = post(client, report_xml(failing=failing, host=lab), classroom.bearer("ann"))
        assert response.status_code == 201 and response.json["flags"] == []
    assert count_flags(classroom.url) == 0
    assert exported(app, classroom)["ann"] == ("28", "")


def test_two_honest_students_on_two_engines_are_not_flagged(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    """Both cloned the same tweet app (same file hashes) and pulled the same alpine and
    mysql images (same image ids): none of that is shared evidence."""
    for student in ("ann", "bob"):
        lab = Lab()
        for _ in range(2):
            response = post(client, report_xml(host=lab), classroom.bearer(student))
            assert response.json["flags"] == [], response.json
    assert count_flags(classroom.url) == 0
    assert exported(app, classroom) == {"ann": ("28", ""), "bob": ("28", "")}


def test_dates_flag_future_and_early_reports_and_mark_late_ones(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ahead = post(
        client, report_xml(created=(now + timedelta(hours=1)).isoformat()), classroom.bearer("ann")
    )
    assert ahead.json["flags"] == ["future_report"]
    honest = post(client, report_xml(), classroom.bearer("ann"))
    assert honest.json["flags"] == []

    set_course(classroom.url, opens_at=now + timedelta(hours=2), closes_at=now + timedelta(days=1))
    early = post(client, report_xml(), classroom.bearer("bob"))
    assert early.json["flags"] == ["before_opening"]
    assert "before the course opened" in shown(client, classroom, early.json["id"])["flag_reason"]

    closes = datetime.now(UTC)
    set_course(classroom.url, opens_at=None, closes_at=closes)
    # made after the close (within the 5 minutes a clock may be ahead): late
    made_late = report_xml(
        failing=("hello.runs",), created=(closes + timedelta(seconds=2)).isoformat()
    )
    late = post(client, made_late, classroom.bearer("ann")).json
    assert late["flags"] == [] and shown(client, classroom, late["id"])["late"] is True
    assert not shown(client, classroom, honest.json["id"])["late"]
    assert exported(app, classroom)["ann"] == ("28", "future report")
    assert exported(app, classroom, "--grade", "latest")["ann"] == ("28", "future report")
    latest_late = exported(app, classroom, "--grade", "latest", "--include-late")
    assert latest_late["ann"] == ("26", "future report")


def set_course(url: str, **values: Any) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(update(Course).values(**values))
            connection.execute(update(Assignment).values(**values))  # as `course set` does
    finally:
        engine.dispose()


def test_a_recheck_follows_the_course_dates_and_reads_reports_stored_before_the_checks(
    app: Flask, client: FlaskClient, classroom: Classroom
) -> None:
    lab = Lab()
    ann = post(client, report_xml(host=lab), classroom.bearer("ann")).json
    bob = post(client, report_xml(host=lab), classroom.bearer("bob")).json
    # As if stored before schema 0002: no evidence keys, no integrity flags, not checked.
    engine = make_engine(classroom.url)
    try:
        with engine.begin() as connection:
            connection.execute(Flag.__table__.delete())
            connection.execute(EvidenceKey.__table__.delete())
            connection.execute(update(Submission).values(
                dialect_version="", flagged=False, flag_reason=""))  # fmt: skip
        run = app.test_cli_runner().invoke(args=["course", "recheck", classroom.course])
        assert run.exit_code == 0, run.output
        assert "2 stored before the integrity checks, read again" in run.output
        assert "1 open flag(s)" in run.output
        assert flags_of(shown(client, classroom, ann["id"])) == []
        assert flags_of(shown(client, classroom, bob["id"])) == [("shared_evidence", "ann", "open")]
        # The course now opens after both were graded: both flagged; and unflagged again.
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert (
            app.test_cli_runner()
            .invoke(args=["course", "set", classroom.course, "--opens-at", later])
            .exit_code
            == 0
        )
        assert sorted(k for k, _, _ in flags_of(shown(client, classroom, bob["id"]))) == [
            "before_opening", "shared_evidence",
        ]  # fmt: skip
        again = app.test_cli_runner().invoke(
            args=["course", "set", classroom.course, "--opens-at", "none"]
        )
        assert again.exit_code == 0 and "1 open flag(s)" in again.output
        with engine.connect() as connection:
            checked = connection.scalars(select(Submission.dialect_version)).all()
        assert checked == ["2", "2"]
    finally:
        engine.dispose()
    assert read_report(report_xml()).dialect_version == "2"
