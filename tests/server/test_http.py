"""Ingest over real HTTP against gunicorn on loopback, on SQLite and on PostgreSQL.

Every bad request gets its 4xx, the server keeps serving, and nothing is stored.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from devlab.server.enrolment import SIGNING_SECRET, Classroom, enrol, migrated_sqlite
from devlab.server.reports import Lab, report_xml
from devlab.server.services import Gunicorn, Postgres
from webhook.storage.models import Submission

from .test_api import count, signed_headers
from .test_crosscheck import instructor
from .test_reader import BILLION_LAUGHS, EXTERNAL_ENTITY

LIMIT = 64 * 1024
XML = {"Content-Type": "application/xml"}


def server_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "GRADER_DATABASE_URL": url,
        "GRADER_SECRET_KEY": "test secret key",
        "GRADER_SIGNING_SECRET": SIGNING_SECRET,
        "GRADER_MAX_REPORT_BYTES": str(LIMIT),
        "GRADER_RATE_LIMIT": "1000/minute",
        **extra,
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gunicorn, Classroom]]:
    root = tmp_path_factory.mktemp(f"http-{request.param}")
    if request.param == "sqlite":
        url = migrated_sqlite(root / "grader.sqlite")
    else:
        pg: Postgres = request.getfixturevalue("pg_server")
        url = pg.create_database(f"http_{int(time.time() * 1000)}")
        from webhook.storage.db import upgrade

        upgrade(url)
    classroom = enrol(url)
    with Gunicorn(server_env(url), workers=2, log=root / "gunicorn.log") as server:
        yield server, classroom


def send(server: Gunicorn, body: object, headers: dict[str, str]) -> requests.Response:
    return requests.post(server.url + "/api/v1/submissions", data=body, headers=headers, timeout=10)


def chunked(data: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def bad_requests(
    classroom: Classroom,
) -> list[tuple[str, bytes | Iterator[bytes], dict[str, str], int]]:
    ann = {**XML, **classroom.bearer("ann")}
    valid = report_xml().decode()
    padded = valid.replace("</testsuites>", "<!--" + "x" * (2 * LIMIT) + "--></testsuites>")
    missing = re.sub(r'<property name="engine_id" value="[^"]*"\s*/>', "", valid)
    negative = valid.replace('value="2/2"', 'value="-2/2"', 1)
    absurd = valid.replace('value="2/2"', 'value="2000000/2000000"', 1)
    forged = (
        report_xml(failing=("tweet.serves",))
        .decode()
        .replace("<testsuite ", '<testsuite score="28" ')
    )
    body = report_xml()
    replayed = signed_headers(body)
    stale = signed_headers(body, timestamp=int(time.time()) - 600)
    return [
        ("malformed XML", b"<testsuites><testsuite", ann, 400),
        ("external entity at a local file", EXTERNAL_ENTITY, ann, 400),
        ("billion laughs", BILLION_LAUGHS, ann, 400),
        ("over the limit", padded.encode(), ann, 413),
        ("over the limit, chunked", chunked(padded.encode()), ann, 413),
        ("wrong content type", body, {**ann, "Content-Type": "text/plain"}, 415),
        ("no content type", body, classroom.bearer("ann"), 415),
        ("missing property", missing.encode(), ann, 400),
        ("negative points", negative.encode(), ann, 400),
        ("absurd points", absurd.encode(), ann, 400),
        ("forged score attribute", forged.encode(), ann, 400),
        ("no token", body, XML, 401),
        ("wrong token", body, {**XML, "Authorization": "Bearer forged"}, 401),
        ("stale signed delivery", body, {**XML, **stale}, 401),
        ("malformed signature", body, {**XML, **replayed, "webhook-signature": "v1,%%%"}, 401),
        ("signature without version", body, {**XML, **replayed, "webhook-signature": "AAAA"}, 401),
        ("non-numeric timestamp", body, {**XML, **replayed, "webhook-timestamp": "now"}, 401),
    ]  # fmt: skip


def test_every_bad_request_gets_its_4xx_and_nothing_is_stored(
    served: tuple[Gunicorn, Classroom],
) -> None:
    server, classroom = served
    before = count(classroom.url)
    for name, body, headers, status in bad_requests(classroom):
        response = send(server, body, headers)
        assert response.status_code == status, (name, response.status_code, response.text)
        assert response.json()["reason"], name
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200, name
    assert count(classroom.url) == before
    # ... and it still takes a good report, once.
    body = report_xml()
    assert send(server, body, {**XML, **classroom.bearer("bob")}).status_code == 201
    assert send(server, chunked(body, 1000), {**XML, **classroom.bearer("bob")}).status_code == 200
    assert count(classroom.url) == before + 1


def test_another_students_submission_is_not_shown(served: tuple[Gunicorn, Classroom]) -> None:
    server, classroom = served
    created = send(server, report_xml(), {**XML, **classroom.bearer("ann")})
    assert created.status_code == 201
    url = f"{server.url}/api/v1/submissions/{created.json()['id']}"
    assert requests.get(url, headers=classroom.bearer("bob"), timeout=5).status_code == 404
    assert requests.get(url, headers=classroom.bearer("ann"), timeout=5).json()["score"] == 28


def test_a_replayed_signed_delivery_is_refused(served: tuple[Gunicorn, Classroom]) -> None:
    server, classroom = served
    body = report_xml()
    headers = {**XML, **signed_headers(body, student=f"{classroom.course}/bob")}
    assert send(server, body, headers).status_code == 201
    before = count(classroom.url)
    replay = send(server, body, headers)
    assert replay.status_code == 401 and "replay" in replay.json()["reason"]
    assert count(classroom.url) == before


def test_a_chunked_report_under_the_limit_is_read_whole(served: tuple[Gunicorn, Classroom]) -> None:
    server, classroom = served
    response = send(server, chunked(report_xml(), 100), {**XML, **classroom.bearer("ann")})
    assert response.status_code == 201 and response.json()["score"] == 28


def test_rate_limit_holds_across_workers(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    classroom = enrol(url)
    env = server_env(url, GRADER_RATE_LIMIT="10/hour")
    with Gunicorn(env, workers=4, log=tmp_path / "gunicorn.log") as server:
        statuses = [
            send(server, report_xml(), {**XML, **classroom.bearer("ann")}).status_code
            for _ in range(25)
        ]
    assert statuses.count(201) == 10 and statuses.count(429) == 15
    assert count(url, Submission) == 10


def test_two_copies_arriving_at_once_flag_the_later(served: tuple[Gunicorn, Classroom]) -> None:
    """Two workers store a pair of reports of one host at the same moment: whichever
    looks second must see the first (the identifiers' locks), so the later is flagged."""
    server, classroom = served
    basic = instructor(classroom)

    def send_pair(_: int) -> list[int]:
        host = Lab()
        barrier = threading.Barrier(2)

        def one(student: str) -> int:
            body = report_xml(host=host)
            barrier.wait(timeout=10)
            response = send(server, body, {**XML, **classroom.bearer(student)})
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        with ThreadPoolExecutor(2) as pair:
            return list(pair.map(one, ("ann", "bob")))

    with ThreadPoolExecutor(4) as pool:
        pairs = list(pool.map(send_pair, range(24)))
    for ann_id, bob_id in pairs:
        flagged = {}
        for submission_id in (ann_id, bob_id):
            shown = requests.get(
                f"{server.url}/api/v1/submissions/{submission_id}", headers=basic, timeout=5
            ).json()
            flagged[submission_id] = {(f["kind"], f["other_student"]) for f in shown["flags"]}
        # the one stored first showed the host first: only the other is flagged, naming it
        first, later = sorted(flagged)
        assert flagged[first] == set(), flagged
        other = "ann" if later == bob_id else "bob"
        assert flagged[later] == {("shared_evidence", other)}, flagged
