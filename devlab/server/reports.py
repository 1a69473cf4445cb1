"""Valid reports for the tests, written by the grader's own writer.

Their checks are those of the server's shipped rubric (the JSON document it scores from),
and each passed check carries evidence the way ``grade`` records it (dialect 2): the
containers, images, engine event and file hashes of one student's Docker host, a
:class:`Lab`. A new ``Lab`` is a new host with ids of its own, so honest reports of
two students pass every cross-check; one student's reports from one ``Lab`` share
its ids, as they do on a real host. The tweet app's and hello app's files hash alike
for everyone (everyone clones the same app: the model student's files, hashed as ``grade``
hashes them), and pulled images have one id for all. Engine ids are Docker's own format.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from devlab.model_student import (
    HELLO_DOCKERFILE,
    HELLO_INDEX_JS,
    TWEET_DOCKERFILE,
    TWEET_INDEX_HTML,
)
from submissions.dialect import CheckResult, Evidence, Report, file_digest
from submissions.rubric import shipped_rubric
from submissions.writer import to_junit_xml

VERSION = "0.1.0"
#: A checks digest the shipped rubric knows (an honest, unedited grade).
DIGEST = sorted(shipped_rubric().known_digests)[0]

# Pulled images: the same id on every student's host.
ALPINE = "sha256:" + hashlib.sha256(b"alpine:latest").hexdigest()
MYSQL = "sha256:" + hashlib.sha256(b"mysql:latest").hexdigest()
UBUNTU = "sha256:" + hashlib.sha256(b"ubuntu:latest").hexdigest()
# The lab's files: the same bytes in everyone's clone (the model student's).
FILES = {
    name: file_digest(content.encode())
    for name, content in (
        ("tweet_app/Dockerfile", TWEET_DOCKERFILE),
        ("tweet_app/index.html", TWEET_INDEX_HTML),
        ("hello/Dockerfile", HELLO_DOCKERFILE),
        ("hello/index.js", HELLO_INDEX_JS),
    )
}


def _hex() -> str:
    return secrets.token_hex(32)


def docker_engine_id() -> str:
    """A new engine id as Docker writes it: its key id, 12 groups of 4 base32 characters."""
    letters = base64.b32encode(secrets.token_bytes(30)).decode()
    return ":".join(letters[i : i + 4] for i in range(0, 48, 4))


def _when(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class Lab:
    """One student's Docker host after the lab: its engine and objects, by id."""

    engine_id: str = field(default_factory=docker_engine_id)
    started: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    )
    alpine_run: str = field(default_factory=_hex)
    ubuntu_run: str = field(default_factory=_hex)
    mydb: str = field(default_factory=_hex)
    tweet_image: str = field(default_factory=lambda: "sha256:" + _hex())
    tweet_container: str = field(default_factory=_hex)
    figlet_source: str = field(default_factory=_hex)
    ourfiglet: str = field(default_factory=lambda: "sha256:" + _hex())
    hello_image: str = field(default_factory=lambda: "sha256:" + _hex())

    def at(self, minutes: int) -> str:
        return _when(self.started + timedelta(minutes=minutes))

    def evidence(self) -> dict[str, tuple[Evidence, ...]]:
        """Check id → what proved it, as the grader's checks record it."""
        mydb = Evidence("container", self.mydb, self.at(5), MYSQL, "mydb")
        tweet = Evidence("image", self.tweet_image, self.at(10), name="me/linux_tweet_app:latest")
        figlet = Evidence("image", self.ourfiglet, self.at(21), name="ourfiglet:latest")
        hello = Evidence("image", self.hello_image, self.at(30), name="hello:v0.1")
        return {
            "alpine.hostname": (
                Evidence("container", self.alpine_run, self.at(1), ALPINE, "eager_turing"),
            ),
            "ubuntu.interactive": (Evidence("event", self.ubuntu_run, self.at(2), name="create"),),
            **{
                check: (mydb,)
                for check in (
                    "mydb.running",
                    "mydb.image",
                    "mydb.password",
                    "mydb.detached",
                    "mydb.version",
                )
            },
            "tweet.dockerfile": (
                Evidence("file", FILES["tweet_app/Dockerfile"], name="tweet_app/Dockerfile"),
            ),
            "tweet.image": (tweet,),
            "tweet.published": (
                Evidence("container", self.tweet_container, self.at(11), self.tweet_image, "tweet"),
            ),
            "tweet.serves": (
                Evidence("file", FILES["tweet_app/index.html"], name="tweet_app/index.html"),
            ),
            "figlet.image": (figlet,),
            "figlet.committed": (
                figlet,
                Evidence("container", self.figlet_source, self.at(15), UBUNTU, "figlet_src"),
            ),
            "figlet.runs": (figlet,),
            "hello.dockerfile": (
                Evidence("file", FILES["hello/Dockerfile"], name="hello/Dockerfile"),
                Evidence("file", FILES["hello/index.js"], name="hello/index.js"),
            ),
            "hello.image": (hello,),
            "hello.runs": (hello,),
        }


def make_report(
    *, failing: tuple[str, ...] = (), host: Lab | None = None, **overrides: Any
) -> Report:
    """A report of every rubric check, passed unless named in ``failing``, from ``host``
    (a new one when not given), graded just now."""
    rubric = shipped_rubric()
    host = host or Lab()
    evidence = host.evidence()
    results = tuple(
        CheckResult(
            id=entry.id,
            task=entry.task,
            title=entry.title,
            status="failed" if entry.id in failing else "passed",
            points=0 if entry.id in failing else entry.points,
            max_points=entry.points,
            message="not found" if entry.id in failing else "",
            hint="docker container ls --all" if entry.id in failing else "",
            evidence=() if entry.id in failing else evidence.get(entry.id, ()),
        )
        for entry in rubric.entries
    )
    report = Report(
        lab=rubric.lab,
        grader_version=VERSION,
        checks_digest=DIGEST,
        report_id=secrets.token_hex(16),
        created=_when(datetime.now(UTC).replace(microsecond=0)),
        engine_id=host.engine_id,
        results=results,
        engine_name="laptop",
        engine_version="28.2.2",
    )
    return replace(report, **overrides)


def report_xml(report: Report | None = None, **overrides: Any) -> bytes:
    return to_junit_xml(report or make_report(**overrides)).encode("utf-8")


def hand_typed(report_id: str = "typed-1", engine_id: str = "") -> bytes:
    """The report from issue 7: 17 empty testcases and the six required properties, with
    the digest and version copied from the public ``submissions/rubric.json``, and an engine
    id copied off ``docker info`` (issue 7's typed ``x`` is also flagged, ``odd_engine_id``)."""
    rubric = shipped_rubric()
    cases = "".join(
        f'<testcase name="{entry.id}" classname="{entry.task}"/>' for entry in rubric.entries
    )
    properties = {
        "lab": rubric.lab,
        "grader_version": sorted(rubric.known_versions)[0],
        "checks_digest": sorted(rubric.known_digests)[0],
        "report_id": report_id,
        "created": _when(datetime.now(UTC).replace(microsecond=0)),
        "engine_id": engine_id or docker_engine_id(),
    }
    props = "".join(f'<property name="{n}" value="{v}"/>' for n, v in properties.items())
    return (
        f'<testsuites><testsuite name="docker-lab"><properties>{props}</properties>'
        f"{cases}</testsuite></testsuites>"
    ).encode()
