"""A student's evidence identifiers are budgeted (issue 20, item 7), through the app on SQLite.

Reports each naming 20 new container ids, past :data:`MAX_STUDENT_IDENTIFIERS`, stop adding
rows for new ones (and are flagged ``bad_evidence``); the identifiers the student keeps
naming are stored for every report; and the cross-check still flags a classmate's copy of a
recent identifier, and the flooder's copy of a classmate's.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from devlab.server.enrolment import Classroom, app_config, enrol, migrated_sqlite
from devlab.server.reports import MYSQL, Lab, make_report, report_xml
from submissions import integrity
from submissions.dialect import Evidence
from webhook import create_app
from webhook.crosscheck.budget import MAX_STUDENT_IDENTIFIERS
from webhook.storage.db import make_engine
from webhook.storage.models import EvidenceKey, Flag, Student

from .test_api import post

FRESH = 20  # new container ids per report: with the lab's own, under MAX_SHARING_KEYS


@pytest.fixture
def room(tmp_path: Path) -> Iterator[tuple[FlaskClient, Classroom]]:
    classroom = enrol(migrated_sqlite(tmp_path / "grader.sqlite"))
    app = create_app(app_config(classroom.url, RATE_LIMIT="0/minute"))
    yield app.test_client(), classroom
    app.extensions["grader_db"].dispose()


def naming(host: Lab, containers: tuple[str, ...]) -> bytes:
    """The lab's honest report, its ``mydb.running`` check naming ``containers`` besides."""
    report = make_report(host=host)
    results = tuple(
        replace(r, evidence=(*r.evidence, *(
            Evidence("container", c, host.at(5), MYSQL, f"c{n}") for n, c in enumerate(containers)
        ))) if r.id == "mydb.running" else r
        for r in report.results
    )  # fmt: skip
    return report_xml(replace(report, results=results))


def stored(url: str, student: str) -> tuple[int, int, int]:
    """(distinct identifiers, rows, the budget's count) of one student's evidence keys."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            pk = connection.scalar(select(Student.id).where(Student.student_id == student))
            mine = select(EvidenceKey).where(EvidenceKey.student_pk == pk).subquery()
            distinct = connection.scalar(select(func.count(func.distinct(mine.c.value))))
            rows = connection.scalar(select(func.count()).select_from(mine))
            counted = connection.scalar(select(Student.identifiers).where(Student.id == pk))
    finally:
        engine.dispose()
    return int(distinct or 0), int(rows or 0), int(counted or 0)


def test_a_flood_of_new_identifiers_stays_within_the_students_budget(
    room: tuple[FlaskClient, Classroom],
) -> None:
    client, classroom = room
    host = Lab()
    reports = MAX_STUDENT_IDENTIFIERS // FRESH + 10
    early = ""
    answers = []
    for _ in range(reports):
        fresh = tuple(secrets.token_hex(32) for _ in range(FRESH))
        early = early or fresh[0]
        response = post(client, naming(host, fresh), classroom.bearer("ann"))
        assert response.status_code == 201, response.json
        answers.append(response.json)
    distinct, rows, counted = stored(classroom.url, "ann")
    assert distinct <= MAX_STUDENT_IDENTIFIERS, distinct  # on main: every one, 1,200 and more
    assert counted == distinct
    # The lab's own identifiers (engine, the lab's containers) are stored for every report,
    # so that a takeover or a re-check still flags each report naming them; new ones once.
    own = len(integrity.sharing_keys(make_report(host=host)))
    assert rows == (distinct - own) + reports * own, (rows, distinct, own)
    # Within the budget: not flagged; past it: bad_evidence, saying so.
    assert answers[0]["flagged"] is False
    assert answers[-1]["flagged"] is True
    assert "bad_evidence" in answers[-1]["flags"]
    said = flags_of(classroom.url, answers[-1]["id"])
    assert any(f"over the student's {MAX_STUDENT_IDENTIFIERS}" in r for r in said.values())

    # A classmate's copy of ann's engine (named in her latest report) and of an early
    # container of hers is still flagged, naming ann.
    copy = post(client, naming(Lab(engine_id=host.engine_id), (early,)), classroom.bearer("bob"))
    assert copy.status_code == 201 and "shared_evidence" in copy.json["flags"], copy.json
    assert flags_of(classroom.url, copy.json["id"])["shared_evidence"] == "ann"

    # And ann, past her budget, copying a container bob showed first is flagged too.
    bobs = secrets.token_hex(32)
    assert post(client, naming(Lab(), (bobs,)), classroom.bearer("bob")).status_code == 201
    taken = post(client, naming(host, (bobs,)), classroom.bearer("ann"))
    assert taken.status_code == 201, taken.json
    assert flags_of(classroom.url, taken.json["id"])["shared_evidence"] == "bob"


def flags_of(url: str, submission_id: int) -> dict[str, str]:
    """Kind → the other student's roster id (or the reason) of one report's flags."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Flag.kind, Flag.reason, Student.student_id)
                .outerjoin(Student, Student.id == Flag.other_student_pk)
                .where(Flag.submission_id == submission_id)
            ).all()
    finally:
        engine.dispose()
    return {kind: other or reason for kind, reason, other in rows}
