"""Scores a report from the server's own rubric, and decides a student's course grade.

A check earns its rubric points when it passed, else nothing. The maximum is
the whole rubric, so a report that holds only some tasks scores out of all of
them. What looks wrong is kept but flagged for the instructor (kind
``not_our_checks``: a checks digest or grader version the server does not know,
evidence of edited checks; a lab other than the rubric's; checks the rubric does
not have; points claimed for a check that did not pass; kind ``grading_error``).

:func:`course_grade` is the one place that decides which of a student's reports
count and what their course grade is: the Canvas and Moodle exports use it, and so
will the LMS grade passback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from submissions.dialect import Report, Status
from submissions.integrity import Flag, describe
from submissions.rubric import Rubric


@dataclass(frozen=True)
class ScoredCheck:
    check_id: str
    task: str
    status: Status
    points: int
    max_points: int
    message: str
    hint: str


@dataclass(frozen=True)
class Score:
    score: int
    max_score: int
    checks: tuple[ScoredCheck, ...]
    flags: tuple[Flag, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def flag_reason(self) -> str:
        return "; ".join(describe(flag.kind, flag.reason) for flag in self.flags)


def score_report(report: Report, rubric: Rubric) -> Score:
    """The report's score from ``rubric``; what the report claims is never counted."""
    unknown_grader: list[str] = []
    if report.lab != rubric.lab:
        unknown_grader.append(f"lab {report.lab!r} is not this server's {rubric.lab!r}")
    if report.checks_digest not in rubric.known_digests:
        unknown_grader.append(f"unknown checks digest {report.checks_digest[:64]!r}")
    if report.grader_version not in rubric.known_versions:
        unknown_grader.append(f"unknown grader version {report.grader_version[:40]!r}")

    checks: list[ScoredCheck] = []
    unknown: list[str] = []
    claimed_unearned: list[str] = []
    for result in report.results:
        entry = rubric.get(result.id)
        if entry is None:
            unknown.append(result.id)
        if result.status != "passed" and result.points > 0:
            claimed_unearned.append(result.id)
        most = entry.points if entry is not None else 0
        checks.append(
            ScoredCheck(
                check_id=result.id,
                task=entry.task if entry is not None else result.task,
                status=result.status,
                points=most if result.passed else 0,
                max_points=most,
                message=result.message,
                hint=result.hint,
            )
        )
    if unknown:
        unknown_grader.append(f"checks not in the rubric: {', '.join(unknown[:5])}")
    if claimed_unearned:
        unknown_grader.append(
            f"points claimed for checks that did not pass: {', '.join(claimed_unearned[:5])}"
        )
    flags: list[Flag] = []
    if unknown_grader:
        flags.append(Flag("not_our_checks", "; ".join(unknown_grader)))
    if report.grading_error:
        flags.append(
            Flag(
                "grading_error",
                f"grading failed on the student's side: {report.grading_error[:200]}",
            )
        )
    return Score(
        score=sum(check.points for check in checks),
        max_score=rubric.max_score,
        checks=tuple(checks),
        flags=tuple(flags),
    )


# --- A student's course grade -----------------------------------------------------------------


#: Who vouches for a report: the student (their own machine) or an instructor who ran
#: ``grade`` on the student's machine themselves.
Source = Literal["self", "verified"]
#: Which sources a course's grade counts (a course's ``grade_policy``).
Sources = Literal["self", "verified", "verified-else-self"]
SOURCES: tuple[Sources, ...] = ("self", "verified", "verified-else-self")


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One of a student's stored reports, as their course grade sees it."""

    id: int  # breaks ties of time: the one stored last is the latest
    score: int
    received_at: datetime  # the server's clock: what a deadline is measured against
    open_flags: bool  # some flag on it awaits the instructor's decision
    rejected: bool  # the instructor rejected it: it never counts
    source: Source = "self"


@dataclass(frozen=True, slots=True)
class GradePolicy:
    """Which reports count: by default neither those with open flags nor late ones.

    ``sources`` is the course's grade policy: ``self`` counts only the students' own
    reports, ``verified`` only instructors' verified ones, and ``verified-else-self``
    a student's verified reports once they have one that is not rejected, else their own.
    """

    grade: Literal["best", "latest"] = "best"
    include_flagged: bool = False
    include_late: bool = False
    sources: Sources = "verified-else-self"


def is_late(received_at: datetime, closes_at: datetime | None) -> bool:
    """Whether a report arrived after the course's deadline (``closes_at``, if any)."""
    return closes_at is not None and received_at > closes_at


def counts(report: StoredReport, policy: GradePolicy, closes_at: datetime | None) -> bool:
    """Whether ``report`` counts toward the course grade under ``policy`` (its source aside)."""
    if report.rejected:
        return False
    if report.open_flags and not policy.include_flagged:
        return False
    return policy.include_late or not is_late(report.received_at, closes_at)


def source_counted(reports: Iterable[StoredReport], sources: Sources) -> Source:
    """Which source a student's grade is taken from under the course's ``sources`` policy.

    Under ``verified-else-self`` any verified report that is not rejected decides, even one
    held back (open flags, late): the grade then stays empty until the instructor decides,
    rather than falling back to the student's own, possibly higher, word.
    """
    if sources != "verified-else-self":
        return sources
    verified = any(r.source == "verified" and not r.rejected for r in reports)
    return "verified" if verified else "self"


def course_grade(
    reports: Iterable[StoredReport],
    policy: GradePolicy | None = None,
    *,
    closes_at: datetime | None = None,
) -> int | None:
    """A student's course grade: the best (or latest) score among the reports that count.

    ``None`` when none counts (no report, or every one withheld): exports leave the
    grade empty, so an LMS import keeps what it had. This is the only place that
    decides it; the Canvas and Moodle exports and the LMS grade passback all ask here.
    """
    policy = policy or GradePolicy()
    reports = list(reports)
    source = source_counted(reports, policy.sources)
    counted = [
        report
        for report in reports
        if report.source == source and counts(report, policy, closes_at)
    ]
    if not counted:
        return None
    if policy.grade == "latest":
        return max(counted, key=lambda report: (report.received_at, report.id)).score
    return max(report.score for report in counted)
