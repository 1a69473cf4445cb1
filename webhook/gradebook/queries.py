"""What the course's pages show (the courses, the roster's overview, the pass-rate chart),
read in a few set-based queries.

Each page costs a fixed number of queries whatever the class size: the overview reads
every student's aggregates in one pass of window functions over the course's
submissions, the pass-rate chart one join of the latest submissions with their check
results. Results are small frozen records, so templates and tests never touch ORM
objects or lazy loads. "Rubric order" is the order of the checks in the server's rubric
(the JSON document it scores from). A student's pages read
:mod:`webhook.gradebook.student_queries`, the flags page :mod:`webhook.gradebook.flag_queries`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from webhook.storage.models import Assignment, Course, Student, Submission, SubmissionCheck

SortKey = Literal["id", "name", "latest", "best", "verified", "submissions", "last", "status"]
SORT_KEYS: tuple[SortKey, ...] = (
    "id", "name", "latest", "best", "verified", "submissions", "last", "status",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CourseSummary:
    slug: str
    name: str
    students: int
    submissions: int


@dataclass(frozen=True, slots=True)
class StudentRow:
    """One line of the course overview."""

    pk: int
    student_id: str
    name: str
    submissions: int
    latest_score: int | None
    latest_max: int | None
    best_score: int | None  # the best self-reported score (the student's own reports)
    last_at: datetime | None
    done: bool  # some report had every point
    flagged: int  # how many of the student's reports are flagged
    flag_reason: str  # one of their reasons, for the tooltip
    verified_score: int | None = None  # the latest verified report's (not rejected)
    verified_by: str = ""  # who verified it

    @property
    def started(self) -> bool:
        return self.submissions > 0

    @property
    def self_higher(self) -> bool:
        """The student's own best claims more than an instructor's latest run found: worth
        a look (work undone since, or a self-report that was not the student's machine)."""
        return (
            self.best_score is not None
            and self.verified_score is not None
            and self.best_score > self.verified_score
        )


@dataclass(frozen=True, slots=True)
class PassRate:
    """How many students' latest reports pass one check."""

    check_id: str
    task: str
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def courses(session: Session, *, where: ColumnElement[bool]) -> list[CourseSummary]:
    """The courses ``where`` selects (:func:`webhook.access.courses_visible_to`), each with
    its roster size and number of reports."""
    students = (
        select(Student.course_id, func.count().label("n")).group_by(Student.course_id).subquery()
    )
    reports = (
        select(Submission.course_id, func.count().label("n"))
        .group_by(Submission.course_id)
        .subquery()
    )
    query = (
        select(
            Course.slug,
            Course.name,
            func.coalesce(students.c.n, 0),
            func.coalesce(reports.c.n, 0),
        )
        .outerjoin(students, students.c.course_id == Course.id)
        .outerjoin(reports, reports.c.course_id == Course.id)
        .where(where)
        .order_by(Course.name, Course.slug)
    )
    return [CourseSummary(*row) for row in session.execute(query)]


def course_by_slug(session: Session, slug: str) -> Course | None:
    return session.scalars(select(Course).where(Course.slug == slug)).one_or_none()


def _latest_submission_id(
    student_pk: InstrumentedAttribute[int], assignment: Assignment | None = None
) -> ScalarSelect[int]:
    """The id of the student's latest report (for ``assignment``, if given): one probe of
    (student_pk, received_at)."""
    report = aliased(Submission)  # the outer query may join Submission itself
    mine = report.student_pk == student_pk
    if assignment is not None:
        mine = and_(mine, report.assignment_id == assignment.id)
    return (
        select(report.id)
        .where(mine)
        .order_by(report.received_at.desc(), report.id.desc())
        .limit(1)
        .correlate(Student)
        .scalar_subquery()
    )


def student_rows(
    session: Session, course: Course, assignment: Assignment | None = None
) -> list[StudentRow]:
    """Every student on the roster with their aggregates (of ``assignment``'s reports, if
    given, else of all the course's), in roster order.

    Three simple queries, merged here: the roster with each student's latest
    report (one index probe per student), one grouped scan of the course's
    reports for the counts, and the course's verified reports (few: one per
    student and instructor's run), of which each student's latest is kept.
    Kept apart, neither depends on the planner's
    statistics: joined in one statement, PostgreSQL re-runs the grouped scan
    per student right after a bulk import (1.5 s instead of 20 ms), and a
    window function over the whole course is ten times slower on SQLite.
    Students who never submitted are listed too.
    """
    done = case(
        (and_(Submission.max_score > 0, Submission.score >= Submission.max_score), 1), else_=0
    )
    totals_query = (
        select(
            Submission.student_pk,
            func.count(),
            func.max(case((Submission.source != "verified", Submission.score), else_=None)),
            func.sum(case((Submission.flagged, 1), else_=0)),
            func.max(case((Submission.flagged, Submission.flag_reason), else_="")),
            func.max(done),
        )
        .where(Submission.course_id == course.id, *_of(assignment))
        .group_by(Submission.student_pk)
    )
    totals = {pk: rest for pk, *rest in session.execute(totals_query)}
    verified: dict[int, tuple[int, str]] = {}
    for pk, score, by in session.execute(
        select(Submission.student_pk, Submission.score, Submission.verified_by)
        .where(
            Submission.course_id == course.id,
            Submission.source == "verified",
            ~Submission.rejected,
            *_of(assignment),
        )
        .order_by(Submission.received_at, Submission.id)
    ):
        verified[pk] = (score, by)  # the latest comes last
    # The latest ids in a derived table of their own: a correlated subquery in a
    # join's ON clause is run for every (student, report) pair on PostgreSQL.
    roster = (
        select(
            Student.id,
            Student.student_id,
            Student.name,
            _latest_submission_id(Student.id, assignment).label("latest_id"),
        )
        .where(Student.course_id == course.id)
        .subquery()
    )
    query = (
        select(
            roster.c.id,
            roster.c.student_id,
            roster.c.name,
            Submission.score,
            Submission.max_score,
            Submission.received_at,
        )
        .select_from(roster)
        .outerjoin(Submission, Submission.id == roster.c.latest_id)
        .order_by(roster.c.student_id)
    )
    rows = []
    for pk, sid, name, latest, latest_max, last_at in session.execute(query):
        n, best, flags, reason, finished = totals.get(pk, (0, None, 0, "", 0))
        verified_score, verified_by = verified.get(pk, (None, ""))
        rows.append(
            StudentRow(
                pk=pk,
                student_id=sid,
                name=name,
                submissions=n,
                latest_score=latest,
                latest_max=latest_max,
                best_score=best,
                last_at=last_at,
                done=bool(finished),
                flagged=int(flags or 0),
                flag_reason=reason or "",
                verified_score=verified_score,
                verified_by=verified_by or "",
            )
        )
    return rows


def _of(assignment: Assignment | None) -> tuple[ColumnElement[bool], ...]:
    """The condition on :class:`Submission` that keeps ``assignment``'s (none: all)."""
    return () if assignment is None else (Submission.assignment_id == assignment.id,)


def sort_rows(rows: Sequence[StudentRow], key: str, descending: bool) -> list[StudentRow]:
    """The overview's rows in the order a column header asks for.

    Students without reports always come last, whichever the direction; ties
    fall back to the roster id so that the order is stable between reloads.
    """
    by_id = sorted(rows, key=lambda r: r.student_id)
    if key not in SORT_KEYS or key == "id":
        return by_id[::-1] if descending else by_id
    if key == "name":
        return sorted(by_id, key=lambda r: r.name.casefold(), reverse=descending)
    value = {
        "latest": lambda r: r.latest_score,
        "best": lambda r: r.best_score,
        "verified": lambda r: r.verified_score,
        "submissions": lambda r: r.submissions if r.started else None,
        "last": lambda r: r.last_at,
        # flagged first (they need a look), then done, then in progress
        "status": lambda r: (
            (r.flagged > 0 or r.self_higher, r.done, r.flagged) if r.started else None
        ),
    }[key]
    present = [r for r in by_id if value(r) is not None]
    absent = [r for r in by_id if value(r) is None]
    return sorted(present, key=value, reverse=descending) + absent


def pass_rates(
    session: Session,
    course: Course,
    only: Collection[str] | None = None,
    assignment: Assignment | None = None,
) -> list[PassRate]:
    """Each check's pass rate over every student's latest report (of ``assignment``, if
    given), in report order.

    ``only``: the check ids to count (the rubric's): a check id a report invents adds no
    bar to the class chart.
    """
    latest = (
        select(_latest_submission_id(Student.id, assignment).label("id"))
        .where(Student.course_id == course.id)
        .subquery()
    )
    query = (
        select(
            SubmissionCheck.check_id,
            SubmissionCheck.task,
            func.sum(case((SubmissionCheck.status == "passed", 1), else_=0)),
            func.count(),
        )
        .join(latest, latest.c.id == SubmissionCheck.submission_id)
        .group_by(SubmissionCheck.check_id, SubmissionCheck.task)
        # Reports list checks in rubric order, so the first row id of each is its place.
        .order_by(func.min(SubmissionCheck.id))
    )
    if only is not None:
        query = query.where(SubmissionCheck.check_id.in_(sorted(only)))
    return [
        PassRate(check, task, int(passed), int(total))
        for check, task, passed, total in session.execute(query)
    ]
