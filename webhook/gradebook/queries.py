"""What the gradebook pages show, read in a few set-based queries.

Each page costs a fixed number of queries whatever the class size: the overview
reads every student's aggregates in one pass of window functions over the
course's submissions, the pass-rate chart one join of the latest submissions
with their check results. Results are small frozen records, so templates and
tests never touch ORM objects or lazy loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from submissions.storage.models import CheckResult, Course, Student, Submission

SortKey = Literal["id", "name", "latest", "best", "submissions", "last", "flags"]
SORT_KEYS: tuple[SortKey, ...] = ("id", "name", "latest", "best", "submissions", "last", "flags")


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
    best_score: int | None
    last_at: datetime | None
    done: bool  # some report had every point
    flagged: int  # how many of the student's reports are flagged
    flag_reason: str  # one of their reasons, for the tooltip

    @property
    def started(self) -> bool:
        return self.submissions > 0


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


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    report_id: str
    received_at: datetime
    created: datetime
    score: int
    max_score: int
    grader_version: str
    checks_digest: str
    engine_id: str
    flagged: bool
    flag_reason: str
    via: str


@dataclass(frozen=True, slots=True)
class CheckRow:
    check_id: str
    task: str
    status: str
    points: int
    max_points: int
    message: str
    hint: str


def courses(session: Session) -> list[CourseSummary]:
    """Every course with its roster size and number of reports."""
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
        .order_by(Course.name, Course.slug)
    )
    return [CourseSummary(*row) for row in session.execute(query)]


def course_by_slug(session: Session, slug: str) -> Course | None:
    return session.scalars(select(Course).where(Course.slug == slug)).one_or_none()


def student_rows(session: Session, course: Course) -> list[StudentRow]:
    """Every student on the roster with their aggregates, in roster order.

    One scan of the course's submissions: window aggregates per student, kept on
    the row of the student's latest report (``rn == 1``), joined to the roster so
    that students who never submitted are listed too.
    """
    per_student = Submission.student_pk
    ranked = (
        select(
            Submission.student_pk,
            Submission.score,
            Submission.max_score,
            Submission.received_at,
            func.row_number()
            .over(
                partition_by=Submission.student_pk,
                order_by=(Submission.received_at.desc(), Submission.id.desc()),
            )
            .label("rn"),
            func.count().over(partition_by=per_student).label("n"),
            func.max(Submission.score).over(partition_by=per_student).label("best"),
            func.sum(case((Submission.flagged, 1), else_=0))
            .over(partition_by=per_student)
            .label("flags"),
            func.max(case((Submission.flagged, Submission.flag_reason), else_=""))
            .over(partition_by=per_student)
            .label("reason"),
            func.max(
                case(
                    (and_(Submission.max_score > 0, Submission.score >= Submission.max_score), 1),
                    else_=0,
                )
            )
            .over(partition_by=per_student)
            .label("done"),
        )
        .where(Submission.course_id == course.id)
        .subquery()
    )
    query = (
        select(
            Student.id,
            Student.student_id,
            Student.name,
            ranked.c.n,
            ranked.c.score,
            ranked.c.max_score,
            ranked.c.best,
            ranked.c.received_at,
            ranked.c.done,
            ranked.c.flags,
            ranked.c.reason,
        )
        .outerjoin(ranked, and_(ranked.c.student_pk == Student.id, ranked.c.rn == 1))
        .where(Student.course_id == course.id)
        .order_by(Student.student_id)
    )
    return [
        StudentRow(
            pk=pk,
            student_id=sid,
            name=name,
            submissions=n or 0,
            latest_score=latest,
            latest_max=latest_max,
            best_score=best,
            last_at=last_at,
            done=bool(done),
            flagged=flags or 0,
            flag_reason=reason or "",
        )
        for pk, sid, name, n, latest, latest_max, best, last_at, done, flags, reason in (
            session.execute(query)
        )
    ]


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
        "submissions": lambda r: r.submissions if r.started else None,
        "last": lambda r: r.last_at,
        "flags": lambda r: r.flagged if r.started else None,
    }[key]
    present = [r for r in by_id if value(r) is not None]
    absent = [r for r in by_id if value(r) is None]
    return sorted(present, key=value, reverse=descending) + absent


def pass_rates(session: Session, course: Course) -> list[PassRate]:
    """Each check's pass rate over every student's latest report, in rubric order."""
    latest = (
        select(
            Submission.id,
            func.row_number()
            .over(
                partition_by=Submission.student_pk,
                order_by=(Submission.received_at.desc(), Submission.id.desc()),
            )
            .label("rn"),
        )
        .where(Submission.course_id == course.id)
        .subquery()
    )
    query = (
        select(
            CheckResult.check_id,
            CheckResult.task,
            func.sum(case((CheckResult.status == "passed", 1), else_=0)),
            func.count(),
        )
        .join(latest, and_(latest.c.id == CheckResult.submission_id, latest.c.rn == 1))
        .group_by(CheckResult.check_id, CheckResult.task)
        # Reports list checks in rubric order, so the first row id of each is its place.
        .order_by(CheckResult.task, func.min(CheckResult.id))
    )
    return [
        PassRate(check, task, int(passed), int(total))
        for check, task, passed, total in session.execute(query)
    ]


def student(session: Session, course: Course, student_id: str) -> Student | None:
    return session.scalars(
        select(Student).where(Student.course_id == course.id, Student.student_id == student_id)
    ).one_or_none()


def history(session: Session, student: Student) -> list[SubmissionRow]:
    """A student's reports, oldest first."""
    query = (
        select(Submission)
        .where(Submission.student_pk == student.id)
        .order_by(Submission.received_at, Submission.id)
    )
    return [_submission_row(s) for s in session.scalars(query)]


def submission(session: Session, course: Course, submission_id: int) -> Submission | None:
    return session.scalars(
        select(Submission).where(Submission.id == submission_id, Submission.course_id == course.id)
    ).one_or_none()


def submission_row(sub: Submission) -> SubmissionRow:
    return _submission_row(sub)


def checks(session: Session, sub: Submission) -> list[CheckRow]:
    """One report's checks in the order the report lists them."""
    query = (
        select(
            CheckResult.check_id,
            CheckResult.task,
            CheckResult.status,
            CheckResult.points,
            CheckResult.max_points,
            CheckResult.message,
            CheckResult.hint,
        )
        .where(CheckResult.submission_id == sub.id)
        .order_by(CheckResult.id)
    )
    return [CheckRow(*row) for row in session.execute(query)]


def _submission_row(s: Submission) -> SubmissionRow:
    return SubmissionRow(
        id=s.id,
        report_id=s.report_id,
        received_at=s.received_at,
        created=s.created,
        score=s.score,
        max_score=s.max_score,
        grader_version=s.grader_version,
        checks_digest=s.checks_digest,
        engine_id=s.engine_id,
        flagged=s.flagged,
        flag_reason=s.flag_reason,
        via=s.via,
    )
