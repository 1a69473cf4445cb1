"""Scores a report from the server's own rubric, and decides a student's course grade.

A check earns its rubric points when it passed, else nothing. The maximum is
the whole rubric, so a report that holds only some tasks scores out of all of
them. What looks wrong is kept but flagged for the instructor (kind
``not_our_checks``: a checks digest or grader version the server does not know,
evidence of edited checks; a lab other than the rubric's; checks the rubric does
not have; points claimed for a check that did not pass; kind ``grading_error``).

:func:`assignment_grade` is the one place that decides which of a student's reports
count and what their grade for an assignment is (late policy, extension, excused,
override included); :func:`course_grade` is its older, simpler face. The Canvas and
Moodle exports, the gradebook and the LMS grade passback all ask there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, get_args

from submissions.dialect import Report, Status
from submissions.exceptions import NO_EXCEPTIONS, ExceptionRefused, Exceptions
from submissions.integrity import Flag, describe
from submissions.lateness import CUTOFF, NONE, LatePolicy, lateness, penalty_points, submitted_at
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
        earned, most = check_points(rubric, result.id, result.status)
        checks.append(
            ScoredCheck(
                check_id=result.id,
                task=entry.task if entry is not None else result.task,
                status=result.status,
                points=earned,
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


def check_points(rubric: Rubric, check_id: str, status: str) -> tuple[int, int]:
    """``(earned, most)`` for one check: THE rule. A check earns its rubric points when it
    passed, else nothing; a check the rubric does not have is worth nothing."""
    entry = rubric.get(check_id)
    most = entry.points if entry is not None else 0
    return (most if status == "passed" else 0), most


def points_table(rubric: Rubric) -> tuple[tuple[str, str, int, int], ...]:
    """``(check id, status, earned, most)`` for each of ``rubric``'s checks and each status:
    :func:`check_points` as a table, so that stored check rows are re-scored where they are
    (the server's database adds them up) by this rule, not a copy of it. A check or status
    the table does not hold earns nothing, as :func:`check_points` says."""
    return tuple(
        (check_id, status, *check_points(rubric, check_id, status))
        for check_id in rubric
        for status in get_args(Status)
    )


# --- A student's grade for an assignment ------------------------------------------------------


#: Who vouches for a report: the student (their own machine) or an instructor who ran
#: ``grade`` on the student's machine themselves.
Source = Literal["self", "verified"]
#: Which sources a course's grade counts (a course's ``grade_policy``).
Sources = Literal["self", "verified", "verified-else-self"]
SOURCES: tuple[Sources, ...] = ("self", "verified", "verified-else-self")


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One of a student's stored reports, as their grade sees it.

    ``created`` is the report's own date and ``flag_kinds`` the kinds of every flag on it
    (open or decided): together they say when it counts as submitted
    (:func:`submissions.lateness.submitted_at`). Without ``created``, its arrival decides.
    """

    id: int  # breaks ties of time: the one stored last is the latest
    score: int
    received_at: datetime  # the server's clock: what a deadline is measured against
    open_flags: bool  # some flag on it awaits the instructor's decision
    rejected: bool  # the instructor rejected it: it never counts
    source: Source = "self"
    created: datetime | None = None
    flag_kinds: frozenset[str] = frozenset()

    @property
    def submitted_at(self) -> datetime:
        """When it counts as submitted, for lateness."""
        return submitted_at(self.received_at, self.created, self.flag_kinds)


@dataclass(frozen=True, slots=True)
class GradePolicy:
    """Which reports count: by default neither those with open flags nor late ones.

    ``sources`` is the course's grade policy: ``self`` counts only the students' own
    reports, ``verified`` only instructors' verified ones, and ``verified-else-self``
    a student's verified reports once they have one that is not rejected, else their own.
    ``late`` is the assignment's late policy; without one, ``include_late`` (the exports'
    older switch) says ``none`` or ``cutoff``.
    """

    grade: Literal["best", "latest"] = "best"
    include_flagged: bool = False
    include_late: bool = False
    sources: Sources = "verified-else-self"
    late: LatePolicy | None = None

    @property
    def late_policy(self) -> LatePolicy:
        if self.late is not None:
            return self.late
        return NONE if self.include_late else CUTOFF


def is_late(received_at: datetime, closes_at: datetime | None) -> bool:
    """Whether a report arrived after the course's deadline (``closes_at``, if any)."""
    return closes_at is not None and received_at > closes_at


def counts(report: StoredReport, policy: GradePolicy, closes_at: datetime | None) -> bool:
    """Whether ``report`` counts toward the grade under ``policy`` (its source aside)."""
    if not _trusted(report, policy):
        return False
    return policy.late_policy.counts_late or not lateness(report.submitted_at, closes_at)


def _trusted(report: StoredReport, policy: GradePolicy) -> bool:
    """Not rejected, and without open flags unless the policy counts those."""
    return not report.rejected and (policy.include_flagged or not report.open_flags)


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


@dataclass(frozen=True, slots=True)
class Decision:
    """A student's grade for one assignment, with what made it.

    ``raw`` is the counted report's score and ``penalty`` the points its lateness took
    off (``raw - penalty`` is the policy's grade); ``grade`` is what the student gets:
    ``None`` when nothing counts or they are excused, the override when there is one.
    """

    grade: int | None
    raw: int | None = None
    penalty: int = 0
    report_id: int | None = None
    late: bool = False  # the counted report was submitted after the student's due time
    extended: bool = False
    excused: bool = False
    overridden: bool = False

    @property
    def marks(self) -> tuple[str, ...]:
        """The marks the gradebook shows, in a fixed order."""
        if not (self.late or self.extended or self.excused or self.overridden):
            return ()  # most cells of a course page (8,000 of them): at once
        names = ("late", "extended", "excused", "overridden")
        return tuple(name for name in names if getattr(self, name))


@dataclass(frozen=True, slots=True)
class _Weighed:
    report: StoredReport
    late: bool
    penalty: int

    @property
    def final(self) -> int:
        return self.report.score - self.penalty


ON_TIME = timedelta(0)


def assignment_grade(
    reports: Iterable[StoredReport],
    policy: GradePolicy | None = None,
    *,
    due: datetime | None = None,
    exceptions: Exceptions = NO_EXCEPTIONS,
    max_score: int | None = None,
) -> Decision:
    """A student's grade for one assignment due at ``due`` (its close): THE decision.

    In order: the reports of the counted source (:func:`source_counted`) that are trusted
    (not rejected, no open flags unless counted); lateness against the student's own due
    time (``exceptions.due(due)``), judged by :attr:`StoredReport.submitted_at`; a
    ``cutoff`` policy drops late reports, a ``penalty`` one lowers each late report's
    score *before* the best (or latest) is chosen, so that a late improvement never
    costs a student the on-time grade they had (choosing first and penalising after
    would); then *excused* (no grade), then an override, which wins over everything.

    An override above ``max_score`` (the rubric shrank since it was set) is refused
    with :class:`~submissions.exceptions.ExceptionRefused` rather than passed on
    silently: whoever changes the rubric must settle it.
    """
    policy = policy or GradePolicy()
    late_policy = policy.late_policy
    reports = list(reports)
    student_due = exceptions.due(due)
    source = source_counted(reports, policy.sources)
    weighed: list[_Weighed] = []
    for report in reports:
        if report.source != source or not _trusted(report, policy):
            continue
        # No due time: nobody is late (and a rescore's 40,000 reports skip the clock).
        late = lateness(report.submitted_at, student_due) if student_due is not None else ON_TIME
        if late and not late_policy.counts_late:
            continue
        points = penalty_points(late_policy, report.score, late) if late else 0
        weighed.append(_Weighed(report, bool(late), points))
    chosen = _choose(weighed, policy.grade)
    decision = Decision(
        grade=chosen.final if chosen else None,
        raw=chosen.report.score if chosen else None,
        penalty=chosen.penalty if chosen else 0,
        report_id=chosen.report.id if chosen else None,
        late=chosen.late if chosen else False,
        extended=exceptions.extends(due),
        excused=exceptions.excused,
    )
    if exceptions.excused:
        decision = replace(decision, grade=None)
    override = exceptions.override
    if override is not None:
        if max_score is not None and override.grade > max_score:
            raise ExceptionRefused(
                f"the override of {override.grade} is above the maximum of {max_score}"
            )
        decision = replace(decision, grade=override.grade, overridden=True)
    return decision


def _choose(weighed: list[_Weighed], grade: Literal["best", "latest"]) -> _Weighed | None:
    """The counted report: the latest received, or the best after penalties (the least
    penalised of equals, then the latest)."""
    if not weighed:
        return None
    if grade == "latest":
        return max(weighed, key=lambda w: (w.report.received_at, w.report.id))
    return max(weighed, key=lambda w: (w.final, -w.penalty, w.report.received_at, w.report.id))


def course_grade(
    reports: Iterable[StoredReport],
    policy: GradePolicy | None = None,
    *,
    closes_at: datetime | None = None,
) -> int | None:
    """A student's course grade: the best (or latest) score among the reports that count.

    ``None`` when none counts (no report, or every one withheld): exports leave the
    grade empty, so an LMS import keeps what it had. :func:`assignment_grade` without
    exceptions decides it, so the two can never disagree.
    """
    return assignment_grade(reports, policy, due=closes_at).grade
