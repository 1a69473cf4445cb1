"""Bounded storage (issue 11, findings 2 and 11), on a SQLite file and on PostgreSQL.

Over-long values are refused with 400 (PostgreSQL's ``VARCHAR`` would raise a 500), the
size limit defaults to 128 KiB, and each student's raw reports are bounded.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from devlab.server.enrolment import Classroom
from devlab.server.reports import Lab, make_report, report_xml
from devlab.server.services import Postgres
from submissions.rubric import shipped_rubric
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import RAW_KEPT_LATEST, Course, Submission

from .test_api import count, post

LONG = {
    "lab": 101,
    "grader_version": 101,
    "engine_id": 201,
    "checks_digest": 201,
}


@pytest.mark.parametrize(("field", "length"), sorted(LONG.items()))
def test_a_value_longer_than_its_column_is_a_400_and_nothing_is_stored(
    client: FlaskClient, classroom: Classroom, field: str, length: int
) -> None:
    body = report_xml(**{field: "x" * length})
    response = post(client, body, classroom.bearer("ann"))
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    assert response.json["error"] == "bad_report"
    assert field in response.json["reason"] and str(length - 1) in response.json["reason"]
    assert count(classroom.url, Submission) == 0
    # One character less fits, and is stored whole (a lab's, once the course has an assignment
    # of that lab: before, it is not filed, 404).
    fits = report_xml(**{field: "x" * (length - 1)})
    if field == "lab":
        assert post(client, fits, classroom.bearer("ann")).json["error"] == "no_assignment"
        add_lab(classroom.url, "x" * (length - 1))
    response = post(client, fits, classroom.bearer("ann"))
    assert response.status_code == 201, response.json
    assert count(classroom.url, Submission) == 1


def add_lab(url: str, lab: str) -> None:
    """An assignment of ``lab`` in the classroom's course (the shipped rubric's checks)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            course = session.scalars(select(Course)).one()
            rubric = replace(shipped_rubric(), lab=lab)
            add_assignment(session, course, rubric, slug="long")
            session.commit()
    finally:
        engine.dispose()


def test_a_task_longer_than_its_column_is_a_400(client: FlaskClient, classroom: Classroom) -> None:
    report = make_report()
    invented = replace(report.results[0], id="invented.check", task="t" * 101)
    body = report_xml(replace(report, results=(*report.results, invented)))
    response = post(client, body, classroom.bearer("ann"))
    assert response.status_code == 400, response.json
    assert "task of check 'invented.check'" in response.json["reason"]
    assert count(classroom.url, Submission) == 0
    fits = replace(invented, task="t" * 100)
    body = report_xml(replace(report, results=(*report.results, fits)))
    assert post(client, body, classroom.bearer("ann")).status_code == 201


def test_the_default_size_limit_is_128_kib(client: FlaskClient, classroom: Classroom) -> None:
    """A real report is about 3 KB (10 KB with evidence): 128 KiB leaves room, 1 MiB did not
    bound a flood (32-40 MiB a minute from one student at the old limits)."""
    assert client.application.config["MAX_REPORT_BYTES"] == 128 * 1024
    body = report_xml()
    pad = 128 * 1024 - len(body) - len("<!---->")
    fits = body.replace(b"</testsuites>", b"<!--" + b"x" * pad + b"--></testsuites>")
    assert len(fits) == 128 * 1024
    assert post(client, fits, classroom.bearer("ann")).status_code == 201
    over = report_xml().replace(b"</testsuites>", b"<!--" + b"x" * (pad + 1) + b"--></testsuites>")
    response = post(client, over, classroom.bearer("ann"))
    assert response.status_code == 413, response.json
    assert count(classroom.url, Submission) == 1


def raw_kept(url: str, student: str) -> dict[int, tuple[int, bool]]:
    """Submission id → (score, raw XML kept) for one student, checked row by row."""
    from webhook.storage.models import Student

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = (
                select(Submission.id, Submission.score, Submission.raw_xml,
                       Submission.raw_dropped_at)
                .join(Student, Student.id == Submission.student_pk)
                .where(Student.student_id == student)
                .order_by(Submission.id)
            )  # fmt: skip
            kept = {}
            for pk, score, raw, dropped_at in connection.execute(query):
                assert (raw == "") == (dropped_at is not None), pk
                kept[pk] = (score, raw != "")
            return kept
    finally:
        engine.dispose()


def test_raw_xml_is_kept_for_the_latest_50_reports_and_the_best(
    client: FlaskClient, classroom: Classroom
) -> None:
    host = Lab()
    low = tuple(entry.id for entry in shipped_rubric().entries[:4])

    def send(failing: tuple[str, ...]) -> int:
        response = post(client, report_xml(host=host, failing=failing), classroom.bearer("ann"))
        assert response.status_code == 201, response.json
        return int(response.json["id"])

    best = send(("mydb.running",))
    ids = [best] + [send(low) for _ in range(RAW_KEPT_LATEST + 2)]
    bob = post(client, report_xml(), classroom.bearer("bob"))
    kept = raw_kept(classroom.url, "ann")
    assert sorted(kept) == ids  # every report and its score stays
    assert [pk for pk, (_, raw) in kept.items() if not raw] == ids[1:3]
    assert kept[best] == (26, True)  # the best, older than the latest 50, keeps its XML
    assert raw_kept(classroom.url, "bob") == {bob.json["id"]: (28, True)}

    # A new best: the old one is no longer kept for being the best.
    newest = send(())
    kept = raw_kept(classroom.url, "ann")
    assert [pk for pk, (_, raw) in kept.items() if raw] == [*ids, newest][-RAW_KEPT_LATEST:]
    assert kept[best] == (26, False)
    # A report whose XML was dropped is still shown, with its score.
    shown = client.get(f"/api/v1/submissions/{best}", headers=classroom.bearer("ann"))
    assert shown.status_code == 200 and shown.json["score"] == 26


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0003(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database at revision 0003 (before this issue's schema)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        pg: Postgres = request.getfixturevalue("pg_server")
        url = pg.create_database(f"old_{uuid.uuid4().hex[:12]}")
    upgrade(url, "0003")
    return url


def test_an_existing_database_drops_the_raw_xml_the_rule_drops_when_upgraded(
    at_0003: str,
) -> None:
    """Student 1: ids 1-3 never checked (dialect ''), then 60 reports, the best id 10.
    Kept: the newest 50 (14-63), the best and the unchecked ones; dropped: 4-9 and 11-13."""
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    engine = make_engine(at_0003)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO course (id, slug, name, created_at) VALUES (1, 'c', 'C', :t)"
            ), {"t": t0})  # fmt: skip
            for pk in (1, 2):
                connection.execute(
                    text("INSERT INTO student (id, course_id, student_id, name, email, token_hash,"
                         " created_at) VALUES (:pk, 1, :who, :who, '', :hash, :t)"),
                    {"pk": pk, "who": f"s{pk}", "hash": str(pk) * 64, "t": t0},
                )  # fmt: skip
            rows = [(pk, 1, 28 if pk == 10 else 10, "" if pk <= 3 else "2") for pk in range(1, 64)]
            rows += [(pk, 2, 5, "2") for pk in range(64, 67)]
            for pk, student, score, dialect in rows:
                connection.execute(
                    text("INSERT INTO submission (id, report_id, student_pk, course_id,"
                         " received_at, created, lab, score, max_score, checks_digest,"
                         " grader_version, engine_id, raw_xml, flagged, flag_reason, via,"
                         " rejected, body_sha256, dialect_version) VALUES (:pk, :rid, :student,"
                         " 1, :t, :t, 'docker_beginners', :score, 28, 'd', 'v', 'e', '<x/>',"
                         " :no, '', 'token', :no, 'h', :dialect)"),
                    {"pk": pk, "rid": f"r{pk}", "student": student,
                     "t": t0 + timedelta(minutes=pk), "score": score, "no": False,
                     "dialect": dialect},
                )  # fmt: skip
    finally:
        engine.dispose()

    upgrade(at_0003)
    first, second = raw_kept(at_0003, "s1"), raw_kept(at_0003, "s2")
    assert len(first) == 63 and first[10] == (28, True)
    assert [pk for pk, (_, raw) in first.items() if not raw] == [4, 5, 6, 7, 8, 9, 11, 12, 13]
    assert all(raw for _, raw in second.values()) and len(second) == 3


def test_a_signed_deliverys_id_longer_than_its_column_is_refused_not_a_500(
    client: FlaskClient, classroom: Classroom
) -> None:
    """webhook.signing bounds the webhook-id at the column's 200 characters (401)."""
    from webhook.storage.models import SignedDelivery

    from .test_api import signed_headers

    assert SignedDelivery.__table__.c.webhook_id.type.length == 200
    body = report_xml()
    response = post(client, body, signed_headers(body, msg_id="m" * 201))
    assert response.status_code == 401, response.json
    assert count(classroom.url, Submission) == 0
    assert post(client, body, signed_headers(body, msg_id="m" * 200)).status_code == 201
