"""Cheap forgeries caught (issue 20, item 8), each through the real app on a SQLite file.

A made-up hash of a file the lab gives unchanged, evidence older than the course, an engine
id in no format Docker or Podman writes, and engine id ``unknown`` on a report with evidence:
each a flag kind on the stored report. The honest reports they must not catch are here too:
a Windows checkout's CRLF files, Docker's old base32 engine id and its UUID, Podman's UUID.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from devlab.model_student import TWEET_INDEX_HTML
from devlab.server.enrolment import Classroom
from devlab.server.reports import Lab, make_report, report_xml
from grader.engine import proof
from submissions.dialect import Evidence, Report
from submissions.rubric import shipped_rubric

from .test_api import post
from .test_crosscheck import set_course, shown

#: Docker before 23.0 (and engines upgraded since): the libtrust key id, 12 groups of 4 base32.
DOCKER_KEY_ID = ":".join(
    base64.b32encode(hashlib.sha256(b"an old docker engine").digest()[:30]).decode()[i : i + 4]
    for i in range(0, 48, 4)
)
#: Docker 23.0 and later (fresh installs), and Podman's compat API: a UUID.
DOCKER_UUID = str(uuid.uuid4())
PODMAN_UUID = str(uuid.uuid4())


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These flags are judged before any write: one database shows them."""
    return sqlite_url


def sent(client: FlaskClient, classroom: Classroom, report: Report, student: str) -> Any:
    """Post ``report`` as ``student``: the API's answer (it is stored, whatever its flags)."""
    answer: Any = post(client, report_xml(report), classroom.bearer(student))
    assert answer.status_code == 201, answer.data
    return answer.json


def flags(
    client: FlaskClient, classroom: Classroom, report: Report, student: str = "ann"
) -> list[str]:
    """The kinds of the flags ``report`` was stored with."""
    kinds: list[str] = sent(client, classroom, report, student)["flags"]
    return kinds


def reason(client: FlaskClient, classroom: Classroom, report: Report) -> str:
    """``report`` sent again by ann, as a new report: the reason the instructor reads."""
    stored = sent(client, classroom, replace(report, report_id=uuid.uuid4().hex), "ann")
    said: str = shown(client, classroom, stored["id"])["flag_reason"]
    return said


def with_evidence(report: Report, check_id: str, *evidence: Evidence) -> Report:
    results = tuple(
        replace(r, evidence=evidence) if r.id == check_id else r for r in report.results
    )
    return replace(report, results=results)


def served_page(content: bytes) -> Evidence:
    """What ``grade`` records for the tweet app's page, as its check does."""
    proof.begin()
    proof.prove_file("tweet_app/index.html", content)
    (evidence,) = proof.taken()
    proof.begin()
    return evidence


# --- Honest reports: not flagged ------------------------------------------------------------


@pytest.mark.parametrize("engine_id", [DOCKER_KEY_ID, DOCKER_UUID, PODMAN_UUID])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_an_honest_report_is_not_flagged(
    client: FlaskClient, classroom: Classroom, engine_id: str, newline: str
) -> None:
    page = TWEET_INDEX_HTML.replace("\n", newline).encode()
    report = with_evidence(make_report(host=Lab(engine_id=engine_id)), "tweet.serves",
                           served_page(page))  # fmt: skip
    assert flags(client, classroom, report) == []


def test_the_workshops_reports_are_honest(client: FlaskClient, classroom: Classroom) -> None:
    """The report maker every server test uses makes reports no rule flags."""
    assert flags(client, classroom, make_report()) == []
    assert flags(client, classroom, make_report(), "bob") == []


# --- File hashes ----------------------------------------------------------------------------


def test_a_made_up_hash_of_a_file_the_lab_gives_is_flagged(
    client: FlaskClient, classroom: Classroom
) -> None:
    made_up = hashlib.sha256(b"tweet_app/index.html").hexdigest()
    forged = with_evidence(
        make_report(), "tweet.serves", Evidence("file", made_up, name="tweet_app/index.html")
    )
    assert flags(client, classroom, forged) == ["unknown_file"]
    assert f"tweet.serves: tweet_app/index.html {made_up[:12]}" in reason(client, classroom, forged)
    # An edited page is no page the lab gives either, whatever its line endings.
    edited = served_page(TWEET_INDEX_HTML.replace("Tweet", "Toot").encode())
    assert flags(client, classroom, with_evidence(make_report(), "tweet.serves", edited)) == [
        "unknown_file"
    ]


def test_files_the_student_writes_are_not_checked(
    client: FlaskClient, classroom: Classroom
) -> None:
    """The hello app's files and the tweet app's Dockerfile are the student's own work."""
    own = [
        Evidence("file", hashlib.sha256(name.encode()).hexdigest(), name=name)
        for name in ("hello/Dockerfile", "hello/index.js")
    ]
    report = with_evidence(make_report(), "hello.dockerfile", *own)
    recipe = Evidence("file", hashlib.sha256(b"FROM nginx:1.25\n").hexdigest(),
                      name="tweet_app/Dockerfile")  # fmt: skip
    report = with_evidence(report, "tweet.dockerfile", recipe)
    assert flags(client, classroom, report) == []
    assert "tweet_app/index.html" in shipped_rubric().known_files
    assert not {"hello/Dockerfile", "hello/index.js", "tweet_app/Dockerfile"} & set(
        shipped_rubric().known_files
    )


# --- Evidence older than the course ---------------------------------------------------------


def test_evidence_dated_before_the_course_opened_is_flagged(
    client: FlaskClient, classroom: Classroom
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    set_course(classroom.url, opens_at=now - timedelta(days=1))
    last_term = Lab(started=now - timedelta(days=120))  # last term's lab, sent again today
    assert flags(client, classroom, make_report(host=last_term)) == ["evidence_before_opening"]
    said = reason(client, classroom, make_report(host=last_term))
    assert "before the course opened" in said and "alpine.hostname: container" in said
    # The lab done since the course opened is fine.
    assert flags(client, classroom, make_report(), "bob") == []
    # A report itself dated before the opening is flagged for that, once.
    set_course(classroom.url, opens_at=now + timedelta(hours=1))
    early = Lab(started=now - timedelta(days=120))
    assert flags(client, classroom, make_report(host=early), "bob") == ["before_opening"]


# --- Engine ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "engine_id",
    [
        "x",
        "ENGINE:TEST",
        "my-laptop",
        # the old workshop's: 12 groups of 4, but hex (0, 1, 8 and 9 are not base32)
        ":".join(["0A1B"] * 12),
        ":".join(DOCKER_KEY_ID.split(":")[:11]),  # 11 groups
        DOCKER_KEY_ID.lower(),
        DOCKER_UUID.replace("-", ""),
        DOCKER_UUID[:-1] + "g",
    ],
)
def test_an_engine_id_in_no_format_docker_or_podman_uses_is_flagged(
    client: FlaskClient, classroom: Classroom, engine_id: str
) -> None:
    assert flags(client, classroom, make_report(host=Lab(engine_id=engine_id))) == ["odd_engine_id"]


def test_engine_id_unknown_on_a_report_with_evidence_is_flagged(
    client: FlaskClient, classroom: Classroom
) -> None:
    for engine_id in ("unknown", "Unknown"):
        assert flags(client, classroom, make_report(host=Lab(engine_id=engine_id))) == [
            "unknown_engine"
        ]
    assert "no engine id" in reason(client, classroom, make_report(engine_id="unknown"))
    # grade writes `unknown` when no engine answered: then no check passed, and nothing is wrong.
    nothing = tuple(entry.id for entry in shipped_rubric().entries)
    assert flags(client, classroom, make_report(failing=nothing, engine_id="unknown")) == []
