"""The server's tables, as SQLAlchemy 2 declarative models.

The gradebook reads these; their table and column names are an interface (existing
databases upgrade through the Alembic migrations beside this module). Times are
stored and returned as timezone-aware UTC on SQLite and PostgreSQL alike.
:class:`RateLimitWindow` and :class:`SignedDelivery` are the server's own
bookkeeping (rate limiting and replay protection shared by every worker).

Integrity (:mod:`webhook.crosscheck`): a :class:`Flag` is one thing about a report the
instructor decides on; :class:`EvidenceKey` lists what each report's evidence names
(engine, containers, images), indexed by course and value so that a new report is
compared with the whole course in a few index probes. ``Submission.flagged``,
``flag_reason`` and ``rejected`` summarise the report's flags for the pages and the
export, and are kept in step with them by ``webhook.crosscheck.flags.refresh_standing``.

Verified grading (migration 0003): a :class:`Submission`'s ``source`` is ``self`` (the
student's own token, or a signed delivery) or ``verified`` (an instructor's API token,
``verified_by`` naming them); :class:`CourseInstructor` says which instructors may verify
whose reports; ``Course.grade_policy`` (:data:`GRADE_POLICIES`) which reports its grade counts.

Assignments (issue 19, migration 0011): an :class:`Assignment` is one lab in one course, with
its own dates and grade policy, scored from its own rubric (:class:`AssignmentRubric`, the
JSON document stored in versions: a change makes a new one, the old stay readable). Every
:class:`Submission` belongs to one. The course's ``opens_at``, ``closes_at`` and
``grade_policy`` are the defaults a new assignment takes.

Storage knows no feature. A feature's tables are declared on this :class:`Base` in the
feature's own package and point at these tables by foreign key (LTI's in
:mod:`webhook.lti.models`); nothing here refers back to them. So ``Base.metadata`` holds
a feature's tables only once its models are imported: the migrations' ``env.py`` imports
every model module, and so does the check that the migrations match the models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: What a course's grade counts (``submissions.scoring.GradePolicy.sources``).
GRADE_POLICIES = ("self", "verified", "verified-else-self")
DEFAULT_GRADE_POLICY = "verified-else-self"
#: An assignment's late policy before it had one (``submissions.lateness.CUTOFF``).
DEFAULT_LATE_POLICY = "cutoff"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: The largest id an ``Integer`` primary key holds on every database (PostgreSQL's
#: ``integer``): a larger one in a URL is simply not found, never handed to the driver.
MAX_ROW_ID = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Course(Base):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Reports dated before opens_at are flagged; those received after closes_at are late.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Which reports the grade counts: one of GRADE_POLICIES. The default equals "self"
    # until a report is verified, so existing courses grade as before.
    grade_policy: Mapped[str] = mapped_column(
        String(20), default=DEFAULT_GRADE_POLICY, server_default=DEFAULT_GRADE_POLICY
    )

    students: Mapped[list[Student]] = relationship(back_populates="course")


class Assignment(Base):
    """One lab (a ``docker_lab_grader.labs`` entry point) in one course, graded on its own."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        Index("ix_assignment_course_lab", "course_id", "lab"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))  # unique within its course
    lab: Mapped[str] = mapped_column(String(100))  # the lab's name, as reports name it
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Reports dated before opens_at are flagged; those received after closes_at are late.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    grade_policy: Mapped[str] = mapped_column(
        String(20), default=DEFAULT_GRADE_POLICY, server_default=DEFAULT_GRADE_POLICY
    )
    # Migration 0012: submissions.lateness.LatePolicy as text; "cutoff" (late reports do not
    # count) is what every assignment did before it.
    late_policy: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_LATE_POLICY, server_default=DEFAULT_LATE_POLICY
    )

    course: Mapped[Course] = relationship()


#: What an :class:`AssignmentException` row says (one row per kind, set and removed).
EXCEPTION_KINDS = ("extension", "excused", "override")


class AssignmentException(Base):
    """One exception an instructor made for one student on one assignment: an extension
    (``until`` or ``extra_days``), *excused*, or an override (``grade``), with who set it,
    when and why (migration 0012).

    Rows are never deleted nor edited but for their removal: removing one (or setting the
    same kind again) fills ``removed_*``, so the history of each student's exceptions stays
    readable. At most one row of each kind is in force (``removed_at`` empty) per student.
    """

    __tablename__ = "assignment_exception"
    __table_args__ = (
        Index("ix_assignment_exception_assignment", "assignment_id", "student_pk"),
        Index(
            "ix_assignment_exception_in_force",
            "assignment_id",
            "student_pk",
            "kind",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    student_pk: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # one of EXCEPTION_KINDS
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # extension
    extra_days: Mapped[int] = mapped_column(Integer, default=0)  # extension
    grade: Mapped[int | None] = mapped_column(Integer, default=None)  # override
    note: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_by: Mapped[str] = mapped_column(String(100), default="")
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    removed_note: Mapped[str] = mapped_column(Text, default="")


class AssignmentRubric(Base):
    """One version of an assignment's rubric: the JSON document its reports are scored from.

    Versions count up from 1 per assignment and are never changed: the newest scores new
    reports, the older ones stay readable (what a stored score was computed from).
    """

    __tablename__ = "assignment_rubric"
    __table_args__ = (UniqueConstraint("assignment_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    rubric: Mapped[str] = mapped_column(Text)  # JSON, as submissions.rubric reads it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")  # who, or "migration"


class AssignmentRescore(Base):
    """One re-scoring of an assignment's stored reports with its newest rubric version
    (``grade-server assignment rescore --apply``, or the gradebook's confirm): who, when,
    from which versions to which, and how many reports and grades it changed."""

    __tablename__ = "assignment_rescore"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), index=True
    )
    done_by: Mapped[str] = mapped_column(String(100))  # an instructor, or "assignment rescore"
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_versions: Mapped[str] = mapped_column(String(200))  # "1" or "1, 2": what scored them
    to_version: Mapped[int] = mapped_column(Integer)
    reports: Mapped[int] = mapped_column(Integer)  # re-scored (their check rows kept)
    reports_changed: Mapped[int] = mapped_column(Integer)  # of those, a new score
    grades_changed: Mapped[int] = mapped_column(Integer)
    kept_old: Mapped[int] = mapped_column(Integer)  # check rows dropped: old score kept


class Student(Base):
    """A student on a course's roster; only the hash of their token is kept."""

    __tablename__ = "student"
    __table_args__ = (UniqueConstraint("course_id", "student_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    student_id: Mapped[str] = mapped_column(String(100))  # the roster's id
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The distinct evidence identifiers their reports stored, within a budget (issue 20:
    # webhook.crosscheck.budget): a flood of new ones each report must not grow the index.
    identifiers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    course: Mapped[Course] = relationship(back_populates="students")
    submissions: Mapped[list[Submission]] = relationship(back_populates="student")


class Instructor(Base):
    __tablename__ = "instructor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The SHA-256 of the instructor's API token (``gli_...``), for verified reports; a new
    # token replaces the old. Never a student's: the two are looked up in separate tables.
    token_hash: Mapped[str | None] = mapped_column(
        String(64), default=None, unique=True, index=True
    )
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Issue 11 (logins): counted up by each logout; a session cookie names the generation
    # it was issued in, so that logging out ends every earlier cookie (webhook.auth).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Issue 20 (migration 0007): a server administrator sees every course in the gradebook;
    # any other instructor only those they teach (webhook.access).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CourseInstructor(Base):
    """An instructor teaches a course: they may send verified reports for its students."""

    __tablename__ = "course_instructor"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    instructor_id: Mapped[int] = mapped_column(
        ForeignKey("instructor.id", ondelete="CASCADE"), primary_key=True
    )


#: Each student's newest reports whose raw XML and check rows are kept (with their best one,
#: whatever its age).
RAW_KEPT_LATEST = 50
#: The longest check message stored: longer ones are cut to this, ending in an ellipsis.
MAX_MESSAGE_CHARS = 1000


class Submission(Base):
    """One report as received: scored by the server, raw XML kept verbatim.

    The raw XML of a student's latest :data:`RAW_KEPT_LATEST` reports and of their best
    is kept; older bodies are emptied at ingest (``raw_dropped_at``) and their check rows
    deleted, their scores and flags kept.
    """

    __tablename__ = "submission"
    __table_args__ = (
        Index("ix_submission_student_received", "student_pk", "received_at"),
        Index("ix_submission_course_received", "course_id", "received_at"),
        # Report ids are unique per student (issue 20): another student's copy of an id is a
        # report of their own, cross-checked as a copy, never a refusal of the owner.
        UniqueConstraint("student_pk", "report_id"),
        Index("ix_submission_course_report", "course_id", "report_id"),
        Index("ix_submission_assignment_received", "assignment_id", "received_at"),
        # One student's reports of one assignment: what deciding their grade reads (0015).
        Index("ix_submission_student_assignment", "student_pk", "assignment_id"),
        # A student's reports that still keep their raw XML: about 51 per student, however
        # many they sent, so that ingest finds the ones to drop in one short range.
        Index(
            "ix_submission_raw_kept",
            "student_pk",
            "id",
            sqlite_where=text("raw_dropped_at IS NULL"),
            postgresql_where=text("raw_dropped_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[str] = mapped_column(String(100))
    student_pk: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    # Issue 19: the assignment the report was filed under (its course's, of its lab).
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created: Mapped[datetime] = mapped_column(UTCDateTime)  # when the student graded
    lab: Mapped[str] = mapped_column(String(100))
    score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)
    checks_digest: Mapped[str] = mapped_column(String(200))
    grader_version: Mapped[str] = mapped_column(String(100))
    engine_id: Mapped[str] = mapped_column(String(200))
    raw_xml: Mapped[str] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # has open flags
    flag_reason: Mapped[str] = mapped_column(String(1000), default="")  # the open flags, said
    via: Mapped[str] = mapped_column(String(10))  # "token" | "signed" | "instructor"
    rejected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    body_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # "" for reports stored before the integrity checks existed (schema 0001): not checked.
    dialect_version: Mapped[str] = mapped_column(String(10), default="", server_default="")
    engine_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    engine_version: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # "self": the student's word (their token, or a signed delivery); "verified": an
    # instructor ran grade on the student's machine and sent it with their API token.
    source: Mapped[str] = mapped_column(String(10), default="self", server_default="self")
    verified_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # Issue 11: when ``raw_xml`` was emptied (the report fell out of the student's latest
    # RAW_KEPT_LATEST and was not their best), and its check rows deleted (issue 20); its
    # score and flags are kept.
    raw_dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Issue 19 (migration 0012): the assignment's rubric version its score is from (the
    # newest at ingest; a rescore moves it on, except for reports whose check rows are gone).
    rubric_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    student: Mapped[Student] = relationship(back_populates="submissions")
    checks: Mapped[list[SubmissionCheck]] = relationship(
        back_populates="submission", order_by="SubmissionCheck.id", cascade="all, delete-orphan"
    )


class SubmissionCheck(Base):
    """One check of a stored submission, as the server scored it.

    Not :class:`submissions.dialect.CheckResult` (the report's value object): this is its
    row. The table keeps its first name, ``check_result``, so existing databases upgrade.
    """

    __tablename__ = "check_result"
    __table_args__ = (UniqueConstraint("submission_id", "check_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    check_id: Mapped[str] = mapped_column(String(100))
    task: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))  # passed | failed | error
    points: Mapped[int] = mapped_column(Integer)
    max_points: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    hint: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="checks")


class Flag(Base):
    """Something about a report the instructor should decide on, and their decision.

    ``kind`` is one of :data:`submissions.integrity.KINDS`. Pair kinds name the other
    student. ``submission_id`` is empty only for a copy that was refused (the same
    bytes under another student's report id) and so has no row of its own. ``key``
    makes a flag found again (a re-check, a second copy) the same row.
    """

    __tablename__ = "flag"
    __table_args__ = (
        Index("ix_flag_course_status", "course_id", "status"),
        Index("ix_flag_submission", "submission_id"),
        Index("ix_flag_student", "student_pk"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    student_pk: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(1000))
    other_student_pk: Mapped[int | None] = mapped_column(
        ForeignKey("student.id", ondelete="SET NULL"), default=None
    )
    # Issue 20: the shared piece of evidence a shared_evidence flag is about (its group).
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("flag_group.id", ondelete="SET NULL"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|accepted|rejected
    decided_by: Mapped[str] = mapped_column(String(100), default="")  # instructor's username
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    student: Mapped[Student] = relationship(foreign_keys=[student_pk])
    other_student: Mapped[Student | None] = relationship(foreign_keys=[other_student_pk])
    submission: Mapped[Submission | None] = relationship()


class FlagGroup(Base):
    """An identifier that several students' reports name (issue 20): who showed it first,
    and the group its later reports' ``shared_evidence`` flags are filed under
    (``Flag.group_id``), listed once on the flags page and decided at once.

    ``first_student_pk`` showed it first by item 4's rule (a verified report before every
    self-reported one, then the earliest received) and keeps counting: ingest reads this
    row, never the group's other reports, so a report's cost does not grow with its group.
    """

    __tablename__ = "flag_group"
    __table_args__ = (UniqueConstraint("course_id", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(200))  # an EvidenceKey value: engine:…
    first_student_pk: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    first_verified: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvidenceKey(Base):
    """One identifier a report's evidence names (``engine:…``, ``container:…``, ``image:…``).

    The primary key leads with (course, value): finding every other report of the course
    that names a value is one index range, and so is a whole course's re-check.
    """

    __tablename__ = "evidence_key"
    __table_args__ = ({"sqlite_with_rowid": False},)

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    student_pk: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True
    )


class RateLimitWindow(Base):
    """Requests counted per key in fixed windows, shared by every worker."""

    __tablename__ = "rate_limit_window"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch // window length
    count: Mapped[int] = mapped_column(Integer)


class SignedDelivery(Base):
    """Signed deliveries already seen (webhook-id and timestamp), to refuse replays."""

    __tablename__ = "signed_delivery"

    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    timestamp: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
