"""What a report's way in ends with: a :class:`Stored`, or a :class:`Refused` of some kind.

:mod:`webhook.api` gives each kind of refusal its HTTP status; the values between the
steps (:class:`Sender`, :class:`Checked`, :class:`Ready`, :class:`Verdict`) are here too,
so that every step's module and :func:`webhook.ingest.receive` share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from submissions.dialect import Report
from submissions.integrity import Flag as FoundFlag
from submissions.scoring import Score
from webhook.i18n import N_


class Refused(Exception):
    """A request the server does not take; :mod:`webhook.api` gives each kind its status."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAuthorized(Refused):
    """No or a wrong token, a bad or stale signature, a replay, an unknown student (401)."""

    def __init__(self, reason: str, *, challenge: str = "") -> None:
        super().__init__(reason)
        self.challenge = challenge


class TooLarge(Refused):
    """More bytes than ``MAX_REPORT_BYTES`` (413)."""


class BadReport(Refused):
    """Not UTF-8, not well-formed, or outside the report's dialect (400)."""


class NoAssignment(Refused):
    """The student's course has no assignment of the report's lab, or several and the
    request names none of them (404: the report waits in the student's outbox)."""

    def __init__(self, reason: str, *, course: str, lab: str) -> None:
        super().__init__(reason)
        self.course = course
        self.lab = lab


class Forbidden(Refused):
    """A valid token that may not do this: a student's naming a student, an instructor's
    for a student outside the courses they teach (403)."""


class StudentNotNamed(Refused):
    """An instructor's token without (or with a malformed) ``X-Grader-Student`` (400)."""


class RateLimited(Refused):
    """Over the per-student rate limit (429); ``retry_after`` seconds until the window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(N_("too many reports; try again later"))
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Sender:
    """The student a report is for, and how the request proved it."""

    student_pk: int
    course_id: int
    via: str  # "token" | "signed" | "instructor"
    delivery: tuple[str, int] | None = None  # a signed delivery's (webhook-id, timestamp)
    roster_id: str = ""  # the roster's id, to name the student in other students' flags
    source: str = "self"  # "self" | "verified"
    verified_by: str = ""  # the instructor's username, for a verified report

    @property
    def rate_scope(self) -> str:
        """Verified reports count apart from the student's own, so that neither the
        student nor a TA's run over the whole class can crowd the other out."""
        return "verified" if self.source == "verified" else "student"


@dataclass(frozen=True, slots=True)
class Checked:
    """A report that passed the dialect's checks, with its text kept verbatim."""

    report: Report
    raw_xml: str
    body_sha256: str
    keys: frozenset[str]  # what no two students' reports should share (sharing_keys)


@dataclass(frozen=True, slots=True)
class Ready:
    """A checked report with all that is known of it before the write: its assignment, its
    score from that one's rubric, its own flags, and when it arrived (steps 3 and 4, done
    outside the lock)."""

    checked: Checked
    score: Score
    flags: tuple[FoundFlag, ...]
    received_at: datetime
    assignment_id: int  # the assignment it is filed under (webhook.ingest.route)
    rubric_version: int  # the version of its rubric the score is from


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    report_id: str
    score: int
    max_score: int
    flagged: bool
    created: bool  # False: the same report was stored before (an idempotent repeat)
    flags: tuple[str, ...] = ()  # the kinds of its open flags
    source: str = "self"  # "self" | "verified"
