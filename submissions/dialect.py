"""The JUnit dialect of a grading report, defined once for the writer and the reader.

A report is one ``<testsuite>`` named :data:`SUITE_NAME` inside ``<testsuites>``.
Each check is a ``<testcase>`` whose ``name`` is the check id (``alpine.hostname``)
and whose ``classname`` is its task (``task1``). A failed check carries
``<failure message="what was found">hint: the command to try</failure>``; a check
that could not run carries ``<error>`` the same way. The reader cuts a message or hint at
8,000 characters; the server stores a message cut to 1,000 (with an ellipsis,
``webhook.storage.models.MAX_MESSAGE_CHARS``) and no hint at all (docs/server.md,
*Storage*). JUnit has no testcase
properties, so the points a check earned travel as suite properties
``points.<check id>`` = ``"<earned>/<max>"``; the server ignores them and scores
from its own rubric.

Version 2 (``dialect_version`` = ``"2"``) adds evidence: what proved each passed
check, by identifier, as suite properties ``evidence.<check id>.<n>`` whose value
is a JSON object (:class:`Evidence`), and the engine's name and version beside its
id. A report without ``dialect_version`` is version 1: still readable, it simply
carries no evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SUITE_NAME = "docker-lab"

PROP_LAB = "lab"
PROP_GRADER_VERSION = "grader_version"
PROP_CHECKS_DIGEST = "checks_digest"
PROP_REPORT_ID = "report_id"
PROP_CREATED = "created"
PROP_ENGINE_ID = "engine_id"
PROP_DOCKERID = "dockerid"
PROP_GRADING_ERROR = "grading_error"
PROP_DIALECT_VERSION = "dialect_version"
PROP_ENGINE_NAME = "engine_name"
PROP_ENGINE_VERSION = "engine_version"
POINTS_PREFIX = "points."
EVIDENCE_PREFIX = "evidence."
HINT_PREFIX = "hint: "

#: Properties every report must carry; the reader refuses a report without them.
REQUIRED_PROPERTIES: tuple[str, ...] = (
    PROP_LAB,
    PROP_GRADER_VERSION,
    PROP_CHECKS_DIGEST,
    PROP_REPORT_ID,
    PROP_CREATED,
    PROP_ENGINE_ID,
)

#: The dialect this package writes; a report without the property is version 1.
DIALECT_VERSION = "2"
FIRST_DIALECT_VERSION = "1"

Status = Literal["passed", "failed", "error"]
#: What a piece of evidence identifies.
EvidenceKind = Literal["container", "image", "event", "file"]
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = ("container", "image", "event", "file")
#: The fields of an evidence object besides its kind, in the order they are written.
EVIDENCE_FIELDS = ("id", "created", "image", "name")


@dataclass(frozen=True)
class Evidence:
    """One lab object that proved a check, by identifier only (never its contents).

    - ``container``: ``id`` (64 hex digits), ``created`` (ISO 8601), ``image`` (the image
      id it runs), ``name``;
    - ``image``: ``id`` (``sha256:`` and 64 hex digits), ``created``, ``name`` (a tag);
    - ``event``: ``id`` (the container's id), ``created`` (when it happened), ``name``
      (the action, ``create``);
    - ``file``: ``id`` (:func:`file_digest` of its bytes: sha256, line endings as LF),
      ``name`` (which file, ``tweet_app/Dockerfile``).
    """

    kind: EvidenceKind
    id: str
    created: str = ""
    image: str = ""
    name: str = ""


def file_digest(content: bytes) -> str:
    """A ``file`` evidence id: the sha256 of ``content`` with CRLF line endings made LF, so a
    Windows checkout of a file hashes as the file does (and the server can know it)."""
    return hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest()


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, as the student saw it and the report carries it."""

    id: str
    task: str
    title: str
    status: Status
    points: int
    max_points: int
    message: str = ""
    hint: str = ""
    seconds: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    #: The earlier check whose failure this one only repeats (its precondition is that
    #: check's step), for showing; not part of the JUnit dialect.
    waits_on: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Report:
    """One grading run: who graded what, with which checks, and the results."""

    lab: str
    grader_version: str
    checks_digest: str
    report_id: str
    created: str  # ISO 8601, UTC
    engine_id: str
    results: tuple[CheckResult, ...]
    #: The Docker ID the student graded with (``--dockerid``): informational. The server
    #: reads it (the dialect allows it) but neither stores nor judges it: a Docker ID is the
    #: student's claim, typed on their machine, not who they are; the server knows its
    #: students by their token (or a signed delivery's roster id) and the engine by the
    #: evidence. Only the lab's checks use it, to find the images tagged ``<id>/...``.
    dockerid: str = ""
    grading_error: str = ""
    extra_properties: dict[str, str] = field(default_factory=dict)
    dialect_version: str = DIALECT_VERSION
    engine_name: str = ""
    engine_version: str = ""
    #: ``created`` as aware UTC, parsed once, by the reader (which refuses a report without
    #: a valid one); what the server stores and judges the report's times by. ``None`` on a
    #: report built in memory: the writer needs only the text. Not compared: a report read
    #: back equals the one written.
    created_at: datetime | None = field(default=None, compare=False)

    @property
    def score(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> int:
        return sum(r.max_points for r in self.results)
