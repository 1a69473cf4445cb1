"""What the gradebook pages show, read in a few set-based queries.

Each page costs a fixed number of queries whatever the class size: the overview
reads every student's aggregates in one pass of window functions over the
course's submissions, the pass-rate chart one join of the latest submissions
with their check results. Results are small frozen records, so templates and
tests never touch ORM objects or lazy loads. "Rubric order" is the order of the
checks in the server's rubric (the JSON document it scores from).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ScalarSelect, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, defer

from submissions.integrity import describe
from submissions.scoring import is_late
from webhook.storage.models import Course, Flag, Student, Submission, SubmissionCheck

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
    rejected: bool = False
    source: str = "self"
    verified_by: str = ""
    late: bool = False  # received after the course's deadline
    engine_name: str = ""
    engine_version: str = ""


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


def _latest_submission_id(student_pk: InstrumentedAttribute[int]) -> ScalarSelect[int]:
    """The id of the student's latest report: one probe of (student_pk, received_at)."""
    report = aliased(Submission)  # the outer query may join Submission itself
    return (
        select(report.id)
        .where(report.student_pk == student_pk)
        .order_by(report.received_at.desc(), report.id.desc())
        .limit(1)
        .correlate(Student)
        .scalar_subquery()
    )


def student_rows(session: Session, course: Course) -> list[StudentRow]:
    """Every student on the roster with their aggregates, in roster order.

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
        .where(Submission.course_id == course.id)
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
            _latest_submission_id(Student.id).label("latest_id"),
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
    session: Session, course: Course, only: Collection[str] | None = None
) -> list[PassRate]:
    """Each check's pass rate over every student's latest report, in report order.

    ``only``: the check ids to count (the rubric's): a check id a report invents adds no
    bar to the class chart.
    """
    latest = (
        select(_latest_submission_id(Student.id).label("id"))
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


def student(session: Session, course: Course, student_id: str) -> Student | None:
    return session.scalars(
        select(Student).where(Student.course_id == course.id, Student.student_id == student_id)
    ).one_or_none()


def history(session: Session, student: Student) -> list[SubmissionRow]:
    """A student's reports, oldest first (all of them: pages use :func:`history_page`)."""
    query = (
        select(Submission)
        .options(defer(Submission.raw_xml))
        .where(Submission.student_pk == student.id)
        .order_by(Submission.received_at, Submission.id)
    )
    closes_at = student.course.closes_at
    return [_submission_row(s, closes_at) for s in session.scalars(query)]


#: Reports on one page of a student's history.
HISTORY_PAGE = 50


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of a student's reports, and what the page says about all of them."""

    rows: tuple[SubmissionRow, ...]  # this page's reports, oldest first
    page: int  # 1: the newest reports
    pages: int
    total: int  # every report of the student
    best: int | None
    flagged: int
    latest: SubmissionRow | None  # the student's newest report, on whichever page

    @property
    def first(self) -> int:
        """The 1-based position, newest first, of this page's newest report."""
        return (self.page - 1) * HISTORY_PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def history_page(session: Session, student: Student, page: int = 1) -> HistoryPage:
    """Page ``page`` (1 = newest; past the end: the last) of the student's reports.

    Two index range reads whatever the history's length (a hostile student may send
    thousands): the counts and best score, then one page, raw XML never loaded.
    """
    total, best, flagged = session.execute(
        select(
            func.count(),
            func.max(Submission.score),
            func.coalesce(func.sum(case((Submission.flagged, 1), else_=0)), 0),
        ).where(Submission.student_pk == student.id)
    ).one()
    pages = max(1, -(-int(total) // HISTORY_PAGE))
    page = min(max(1, page), pages)
    query = (
        select(Submission)
        .options(defer(Submission.raw_xml))
        .where(Submission.student_pk == student.id)
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .offset((page - 1) * HISTORY_PAGE)
        .limit(HISTORY_PAGE)
    )
    closes_at = student.course.closes_at
    newest_first = [_submission_row(s, closes_at) for s in session.scalars(query)]
    latest = newest_first[0] if page == 1 and newest_first else None
    if latest is None and total:
        newest = session.scalars(query.offset(0).limit(1)).one()
        latest = _submission_row(newest, closes_at)
    return HistoryPage(
        rows=tuple(reversed(newest_first)),
        page=page,
        pages=pages,
        total=int(total),
        best=None if best is None else int(best),
        flagged=int(flagged),
        latest=latest,
    )


def submission(session: Session, course: Course, submission_id: int) -> Submission | None:
    return session.scalars(
        select(Submission).where(Submission.id == submission_id, Submission.course_id == course.id)
    ).one_or_none()


def submission_row(sub: Submission) -> SubmissionRow:
    return _submission_row(sub, sub.student.course.closes_at)


def checks(session: Session, sub: Submission) -> list[CheckRow]:
    """One report's checks in the order the report lists them."""
    query = (
        select(
            SubmissionCheck.check_id,
            SubmissionCheck.task,
            SubmissionCheck.status,
            SubmissionCheck.points,
            SubmissionCheck.max_points,
            SubmissionCheck.message,
            SubmissionCheck.hint,
        )
        .where(SubmissionCheck.submission_id == sub.id)
        .order_by(SubmissionCheck.id)
    )
    return [CheckRow(*row) for row in session.execute(query)]


def _submission_row(s: Submission, closes_at: datetime | None = None) -> SubmissionRow:
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
        rejected=s.rejected,
        late=is_late(s.received_at, closes_at),
        engine_name=s.engine_name,
        engine_version=s.engine_version,
        source=s.source,
        verified_by=s.verified_by,
    )


# --- Flags ----------------------------------------------------------------------------------

FlagFilter = Literal["open", "decided", "all"]
FLAG_FILTERS: tuple[FlagFilter, ...] = ("open", "decided", "all")


@dataclass(frozen=True, slots=True)
class FlagRow:
    """One flag as the flags page lists it, with its report and the students involved."""

    id: int
    kind: str
    sentence: str  # the flag said in one line, naming the other student
    status: str  # open | accepted | rejected
    student_id: str
    student_name: str
    other_student_id: str | None
    submission_id: int | None  # None: a refused copy, with no report of its own
    score: int | None
    max_score: int | None
    received_at: datetime | None
    decided_by: str
    decided_at: datetime | None
    note: str
    created_at: datetime


def flags(
    session: Session,
    course: Course,
    which: FlagFilter = "open",
    *,
    submission_id: int | None = None,
) -> list[FlagRow]:
    """The course's flags (or one report's), open ones first, newest first: one query."""
    owner, other = aliased(Student), aliased(Student)
    query = (
        select(
            Flag.id,
            Flag.kind,
            Flag.reason,
            Flag.status,
            owner.student_id,
            owner.name,
            other.student_id,
            Flag.submission_id,
            Submission.score,
            Submission.max_score,
            Submission.received_at,
            Flag.decided_by,
            Flag.decided_at,
            Flag.note,
            Flag.created_at,
        )
        .join(owner, owner.id == Flag.student_pk)
        .outerjoin(other, other.id == Flag.other_student_pk)
        .outerjoin(Submission, Submission.id == Flag.submission_id)
        .where(Flag.course_id == course.id)
        .order_by(case((Flag.status == "open", 0), else_=1), Flag.created_at.desc(), Flag.id.desc())
    )
    if submission_id is not None:
        query = query.where(Flag.submission_id == submission_id)
    if which == "open":
        query = query.where(Flag.status == "open")
    elif which == "decided":
        query = query.where(Flag.status != "open")
    return [
        FlagRow(
            id=row[0],
            kind=row[1],
            sentence=describe(row[1], row[2], row[6]),
            status=row[3],
            student_id=row[4],
            student_name=row[5],
            other_student_id=row[6],
            submission_id=row[7],
            score=row[8],
            max_score=row[9],
            received_at=row[10],
            decided_by=row[11],
            decided_at=row[12],
            note=row[13],
            created_at=row[14],
        )
        for row in session.execute(query)
    ]


def flag_counts(session: Session, course: Course) -> dict[str, int]:
    """How many of the course's flags are open and how many decided."""
    query = (
        select(Flag.status, func.count()).where(Flag.course_id == course.id).group_by(Flag.status)
    )
    by_status = {status: int(n) for status, n in session.execute(query)}
    counts = {"open": by_status.pop("open", 0), "decided": sum(by_status.values())}
    counts["all"] = counts["open"] + counts["decided"]
    return counts
