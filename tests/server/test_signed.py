"""Signed deliveries attacked (issue 11, finding 9): the student a delivery names is part of
what is signed, so a delivery (refused or accepted) cannot be sent again for another
student; the tolerance setting works beyond the library's 5 minutes; short secrets are
refused at start-up. Over real HTTP (gunicorn, 2 workers) where a replay is concerned.

The payload is written out here as the protocol says (student, line feed, body), not
through the server's own helper, so that the test pins the protocol.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask import Flask
from standardwebhooks import Webhook

from devlab.server.enrolment import SIGNING_SECRET, Classroom, app_config, enrol, migrated_sqlite
from devlab.server.reports import report_xml
from devlab.server.services import Gunicorn
from webhook import create_app
from webhook.config import ConfigError

XML = {"Content-Type": "application/xml"}


def delivery(
    body: bytes,
    student: str,
    *,
    signed_for: str | None = None,
    timestamp: int | None = None,
    body_only: bool = False,
    secret: str = SIGNING_SECRET,
) -> dict[str, str]:
    """Headers of a delivery naming ``student``, signed for ``signed_for`` (default: the same)."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    payload = body.decode() if body_only else f"{signed_for or student}\n{body.decode()}"
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, tz=UTC), payload)
    return {
        **XML,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        "X-Grader-Student": student,
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Classroom]]:
    root = tmp_path_factory.mktemp("signed")
    url = migrated_sqlite(root / "grader.sqlite")
    classroom = enrol(url, students=("ann", "bob"))
    env = {
        "GRADER_DATABASE_URL": url,
        "GRADER_INSTANCE_PATH": str(root / "instance"),
        "GRADER_SECRET_KEY": "signed test key",
        "GRADER_SIGNING_SECRET": SIGNING_SECRET,
        "GRADER_RATE_LIMIT": "0/minute",
        "GRADER_SIGNATURE_TOLERANCE": "900",
    }
    with Gunicorn(env, workers=2, log=root / "gunicorn.log") as gunicorn:
        yield gunicorn.url + "/api/v1/submissions", classroom


def test_a_delivery_signed_with_its_student_is_stored(served: tuple[str, Classroom]) -> None:
    url, _ = served
    body = report_xml()
    answer = requests.post(url, data=body, headers=delivery(body, "docker-101/ann"), timeout=10)
    assert answer.status_code == 201, answer.text


def test_a_signature_over_the_body_alone_is_refused(served: tuple[str, Classroom]) -> None:
    """The header is not signed: anyone could have changed it on the way."""
    url, _ = served
    body = report_xml()
    headers = delivery(body, "docker-101/ann", body_only=True)
    answer = requests.post(url, data=body, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert "does not match" in answer.json()["reason"]


def test_a_delivery_without_a_student_is_refused(served: tuple[str, Classroom]) -> None:
    url, _ = served
    body = report_xml()
    headers = delivery(body, "docker-101/ann")
    del headers["X-Grader-Student"]
    answer = requests.post(url, data=body, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert "X-Grader-Student" in answer.json()["reason"]


def test_a_refused_delivery_cannot_be_replayed_for_another_student(
    served: tuple[str, Classroom],
) -> None:
    """A delivery naming a student who is not enrolled (refused), then sent again naming
    bob. Signed over the body alone, as senders signed before: the server of that time
    stored the second for bob."""
    url, _ = served
    body = report_xml()
    headers = delivery(body, "docker-101/nobody", body_only=True)
    first = requests.post(url, data=body, headers=headers, timeout=10)
    assert first.status_code == 401
    for other in ("docker-101/bob", "docker-101/ann"):
        replay = requests.post(
            url, data=body, headers={**headers, "X-Grader-Student": other}, timeout=10
        )
        assert replay.status_code == 401, (other, replay.text)
        assert "does not match" in replay.json()["reason"]
    # and signed with the student, as now: the same
    headers = delivery(body, "docker-101/nobody")
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 401
    moved = {**headers, "X-Grader-Student": "docker-101/bob"}
    assert requests.post(url, data=body, headers=moved, timeout=10).status_code == 401


def test_an_accepted_delivery_cannot_be_replayed_for_another_student(
    served: tuple[str, Classroom],
) -> None:
    url, _ = served
    body = report_xml()
    headers = delivery(body, "docker-101/ann")
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 201
    moved = {**headers, "X-Grader-Student": "docker-101/bob"}
    assert requests.post(url, data=body, headers=moved, timeout=10).status_code == 401


def test_the_tolerance_works_beyond_the_librarys_five_minutes(
    served: tuple[str, Classroom],
) -> None:
    """GRADER_SIGNATURE_TOLERANCE=900 here: 10 minutes old is in, 20 minutes old is out."""
    url, _ = served
    body = report_xml()
    ten = delivery(body, "docker-101/ann", timestamp=int(time.time()) - 600)
    answer = requests.post(url, data=body, headers=ten, timeout=10)
    assert answer.status_code == 201, answer.text
    body = report_xml()
    twenty = delivery(body, "docker-101/ann", timestamp=int(time.time()) - 1200)
    late = requests.post(url, data=body, headers=twenty, timeout=10)
    assert late.status_code == 401 and "stale" in late.json()["reason"]


@pytest.mark.parametrize("size", [1, 3, 16, 23])
def test_a_secret_shorter_than_24_bytes_is_refused_at_start_up(size: int, tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * size).decode()
    with pytest.raises(ConfigError, match=f"GRADER_SIGNING_SECRET: the secret is {size} bytes"):
        create_app(
            environ={
                "GRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}",
                "GRADER_INSTANCE_PATH": str(tmp_path),
                "GRADER_SIGNING_SECRET": secret,
            }
        )


def test_a_24_byte_secret_is_taken(tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    url = migrated_sqlite(tmp_path / "g.sqlite")
    classroom = enrol(url)
    app: Flask = create_app(app_config(url, SIGNING_SECRET=secret))
    try:
        body = report_xml()
        headers = delivery(body, f"{classroom.course}/ann", secret=secret)
        answer = app.test_client().post("/api/v1/submissions", data=body, headers=headers)
        assert answer.status_code == 201, answer.json
    finally:
        app.extensions["grader_db"].dispose()
