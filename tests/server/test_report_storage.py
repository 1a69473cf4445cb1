"""Storage per report is bounded (issue 20, item 7).

A report's messages are cut to :data:`~webhook.storage.models.MAX_MESSAGE_CHARS`, its
hints are not stored (the rubric has none to show), and a report that falls out of the
student's latest 50 (and is not their best) loses its check rows with its raw XML: so
one token flooding at the rate limit grows the database by its rows only.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from flask.testing import FlaskClient
from sqlalchemy import func, select

from devlab.server.enrolment import Classroom
from devlab.server.reports import MYSQL, Lab, make_report, report_xml
from submissions.dialect import Evidence
from submissions.rubric import load_rubric, shipped_rubric
from webhook.ingest.body import MAX_SHARING_KEYS
from webhook.storage.db import make_engine
from webhook.storage.models import (
    MAX_MESSAGE_CHARS,
    RAW_KEPT_LATEST,
    EvidenceKey,
    Flag,
    Submission,
    SubmissionCheck,
)

from .test_api import post

#: The report of the finding: 17 checks, each with 3.5 KB of message and 3.5 KB of hint.
EACH = 3_500


def hostile_report(host: Lab | None = None) -> bytes:
    failing = tuple(entry.id for entry in shipped_rubric().entries)
    report = make_report(failing=failing, host=host)
    results = tuple(
        replace(result, message="m" * EACH, hint="h" * EACH) for result in report.results
    )
    return report_xml(replace(report, results=results))


def stored_text(url: str) -> dict[int, tuple[int, int]]:
    """Submission id → (check rows, bytes of their messages and hints)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = (
                select(
                    Submission.id,
                    func.count(SubmissionCheck.id),
                    func.coalesce(
                        func.sum(
                            func.length(SubmissionCheck.message) + func.length(SubmissionCheck.hint)
                        ),
                        0,
                    ),
                )
                .outerjoin(SubmissionCheck, SubmissionCheck.submission_id == Submission.id)
                .group_by(Submission.id)
                .order_by(Submission.id)
            )
            return {pk: (int(rows), int(size)) for pk, rows, size in connection.execute(query)}
    finally:
        engine.dispose()


def test_a_report_stores_its_messages_cut_and_no_hint_of_its_own(
    client: FlaskClient, classroom: Classroom
) -> None:
    body = hostile_report()
    assert len(body) < 128 * 1024  # under the size limit: accepted
    response = post(client, body, classroom.bearer("ann"))
    assert response.status_code == 201, response.json
    [(rows, size)] = stored_text(classroom.url).values()
    # Before: 17 x 7,000 = 119,000 characters of message and hint for one report.
    print(f"stored message and hint characters per report: {size} (was {17 * 2 * EACH})")
    assert rows == 17
    assert size <= 17 * MAX_MESSAGE_CHARS
    shown = client.get(
        f"/api/v1/submissions/{response.json['id']}", headers=classroom.bearer("ann")
    )
    assert shown.status_code == 200
    for check in shown.json["checks"]:
        assert len(check["message"]) == MAX_MESSAGE_CHARS
        assert check["message"].endswith("…") and check["message"].startswith("m" * 900)
        assert "h" * 100 not in check["hint"]  # the report's 7 KB hint is nowhere
        assert check["hint"] == load_rubric()[check["id"]].hint  # the rubric's is shown


def test_a_short_message_is_stored_whole(client: FlaskClient, classroom: Classroom) -> None:
    body = report_xml(failing=("mydb.running",))
    response = post(client, body, classroom.bearer("ann"))
    assert response.status_code == 201, response.json
    shown = client.get(
        f"/api/v1/submissions/{response.json['id']}", headers=classroom.bearer("ann")
    )
    [check] = [c for c in shown.json["checks"] if c["id"] == "mydb.running"]
    assert check["message"] == "not found" and check["status"] == "failed"


def test_reports_past_the_latest_50_keep_their_score_but_not_their_checks(
    client: FlaskClient, classroom: Classroom
) -> None:
    host = Lab()
    ids = []
    for _ in range(RAW_KEPT_LATEST + 3):
        response = post(client, hostile_report(host), classroom.bearer("ann"))
        assert response.status_code == 201, response.json
        ids.append(int(response.json["id"]))
    stored = stored_text(classroom.url)
    assert sorted(stored) == ids  # every report stays
    best, dropped, kept = ids[0], ids[1:3], ids[3:]
    assert stored[best][0] == 17  # the best (the first to reach its score) keeps its checks
    assert all(stored[pk] == (0, 0) for pk in dropped), {pk: stored[pk] for pk in dropped}
    assert all(stored[pk][0] == 17 for pk in kept)
    shown = client.get(f"/api/v1/submissions/{dropped[0]}", headers=classroom.bearer("ann"))
    assert shown.status_code == 200 and shown.json["score"] == 0 and shown.json["checks"] == []


def test_a_report_naming_many_identifiers_stores_a_bounded_few_and_is_flagged(
    client: FlaskClient, classroom: Classroom
) -> None:
    """490 evidence entries fit the reader's limits: 49 KB of index rows a report, unbounded."""
    host = Lab()
    report = make_report(host=host)
    padded = tuple(
        replace(result, evidence=tuple(
            Evidence("container", secrets.token_hex(32), host.at(5), MYSQL, f"c{n}")
            for n in range(100)
        )) if result.id == "mydb.running" else result
        for result in report.results
    )  # fmt: skip
    response = post(client, report_xml(replace(report, results=padded)), classroom.bearer("ann"))
    assert response.status_code == 201, response.json
    assert response.json["flagged"] is True
    engine = make_engine(classroom.url)
    try:
        with engine.connect() as connection:
            keys = connection.scalar(select(func.count()).select_from(EvidenceKey))
            kinds = list(connection.scalars(select(Flag.kind)))
    finally:
        engine.dispose()
    assert keys == MAX_SHARING_KEYS, keys
    assert "bad_evidence" in kinds
    # An honest report names about ten: stored whole, not flagged.
    honest = post(client, report_xml(), classroom.bearer("bob"))
    assert honest.status_code == 201 and honest.json["flagged"] is False, honest.json
