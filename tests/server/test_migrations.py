"""The schema comes from Alembic only, matches the models, and upgrades with its data."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

import webhook.board.models  # (the board's tables, as the migrations' env)
import webhook.lti.models  # (the LTI tables, as the migrations' env)
import webhook.storage.grade_models  # noqa: F401  (as the migrations' env)
from devlab.server.enrolment import app_config
from devlab.server.reports import make_report, report_xml
from submissions.reader import read_report
from webhook import create_app
from webhook.crosscheck import recheck_course
from webhook.storage.db import make_engine, make_session_factory, upgrade, write_transaction
from webhook.storage.models import (
    Base,
    Course,
    CourseInstructor,
    Flag,
    Instructor,
    Submission,
    SubmissionCheck,
)
from webhook.storage.queries import course_grades

# the newest revision: every upgrade test ends there
HEAD = "0016"

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# Issue 12 (0005): dropped first, as they refer to the older tables.
LTI_TABLES = ("lti_score", "lti_passback", "lti_line_item", "lti_member", "lti_context",
              "lti_deployment", "lti_tool_key", "lti_registration", "lti_cache")  # fmt: skip

# Issue 22 (0016): they refer to assignment and student.
BOARD_TABLES = ("progress_change", "progress", "board_setting")


def back_to(database_url: str, revision: str) -> None:
    """The database as a server at ``revision`` left it: every table dropped, then the
    migrations run up to that revision."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for table in (*LTI_TABLES, *BOARD_TABLES, "course_instructor", "evidence_key", "flag",
                          "flag_group",
                          "assignment_rubric", "assignment_exception", "assignment_rescore",
                          "assignment_grade",
                          "alembic_version",
                          "rate_limit_window", "signed_delivery", "check_result", "submission",
                          "student", "assignment", "instructor", "course"):  # fmt: skip
                connection.execute(text(f"DROP TABLE {table}"))
    finally:
        engine.dispose()
    upgrade(database_url, revision)


def test_the_migrations_match_the_models(database_url: str) -> None:
    """Alembic's autogenerate finds nothing to do against the whole schema: storage's
    tables and LTI's, whose models (like the migrations' env) are imported beside."""
    assert set(LTI_TABLES) <= set(Base.metadata.tables)  # the full metadata, features' too
    upgrade(database_url)  # a second time: nothing to do
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == HEAD
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_the_app_never_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.sqlite"
    app = create_app(app_config(url))
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    assert (
        client.post(
            "/api/v1/submissions",
            data=b"<x/>",
            headers={"Content-Type": "application/xml", "Authorization": "Bearer t"},
        ).status_code
        == 503
    )
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    app.extensions["grader_db"].dispose()


def test_an_existing_0001_database_upgrades_with_its_data(database_url: str) -> None:
    """A database of schema 0001 with reports in it (one flagged) comes through 0002 whole:
    every row kept, each report's body hashed, its old flag a flag row; and a re-check then
    reads those reports again and checks them like new ones."""
    back_to(database_url, "0001")  # as a server of that revision left it
    honest = report_xml()
    copied = report_xml(make_report(engine_id=read_report(honest).engine_id))
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO course (id, slug, name, created_at) VALUES (1, 'c', 'C', :t)"
            ), {"t": T0})  # fmt: skip
            for pk, who in ((1, "ann"), (2, "bob")):
                connection.execute(
                    text("INSERT INTO student (id, course_id, student_id, name, email, token_hash,"
                         " created_at) VALUES (:pk, 1, :who, :who, '', :hash, :t)"),
                    {"pk": pk, "who": who, "hash": who * 8, "t": T0},
                )  # fmt: skip
            for pk, student, body, flagged in ((1, 1, honest, False), (2, 2, copied, True)):
                connection.execute(
                    text("INSERT INTO submission (id, report_id, student_pk, course_id,"
                         " received_at, created, lab, score, max_score, checks_digest,"
                         " grader_version, engine_id, raw_xml, flagged, flag_reason, via)"
                         " VALUES (:pk, :rid, :student, 1, :t, :t, 'docker_beginners', 28, 28,"
                         " 'd', 'v', 'e', :xml, :flagged, :reason, 'token')"),
                    {"pk": pk, "rid": f"r{pk}", "student": student, "t": datetime.now(UTC),
                     "xml": body.decode(),
                     "flagged": flagged, "reason": "unknown grader version 'v'" if flagged else ""},
                )  # fmt: skip
                connection.execute(
                    text("INSERT INTO check_result (submission_id, check_id, task, status, points,"
                         " max_points, message, hint) VALUES (:pk, 'a.b', 't', 'passed', 2, 2,"
                         " '', '')"),
                    {"pk": pk},
                )  # fmt: skip
    finally:
        engine.dispose()

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
            rows = connection.execute(
                select(Submission.id, Submission.body_sha256, Submission.flagged,
                       Submission.rejected, Submission.dialect_version).order_by(Submission.id)
            ).all()  # fmt: skip
            assert [tuple(row) for row in rows] == [
                (1, hashlib.sha256(honest).hexdigest(), False, False, ""),
                (2, hashlib.sha256(copied).hexdigest(), True, False, ""),
            ]
            assert connection.scalar(select(func.count()).select_from(SubmissionCheck)) == 2
            flags = connection.execute(
                select(Flag.submission_id, Flag.kind, Flag.reason, Flag.status)
            ).all()
            assert [tuple(f) for f in flags] == [
                (2, "not_our_checks", "unknown grader version 'v'", "open")
            ]
        with write_transaction(engine) as connection:
            done = recheck_course(connection, 1)
        assert (done.reports, done.reread) == (2, 2)  # the two share an engine id
        with engine.connect() as connection:
            kinds = connection.execute(
                select(Flag.submission_id, Flag.kind).order_by(Flag.submission_id, Flag.kind)
            ).all()
            # the first showed the engine first: only the second is flagged for sharing it
            assert [tuple(k) for k in kinds] == [
                (2, "not_our_checks"), (2, "shared_evidence"),
            ]  # fmt: skip
            assert connection.scalars(select(Submission.dialect_version)).all() == ["2", "2"]
    finally:
        engine.dispose()


def test_an_existing_0002_database_upgrades_to_verified_grading(database_url: str) -> None:
    """A 0002 database with a course, an instructor and a flagged and an honest report comes
    through 0003 whole: every report ``self``, no instructor token, nobody teaching (so
    nothing is verified until an instructor is added), and grades as they were."""
    back_to(database_url, "0002")  # as a server of that revision left it
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO course (id, slug, name, created_at) VALUES (1, 'c', 'C', :t)"
            ), {"t": T0})  # fmt: skip
            connection.execute(text(
                "INSERT INTO instructor (id, username, password_hash, created_at)"
                " VALUES (1, 'ta', 'x', :t)"
            ), {"t": T0})  # fmt: skip
            for pk, who in ((1, "ann"), (2, "bob")):
                connection.execute(
                    text("INSERT INTO student (id, course_id, student_id, name, email, token_hash,"
                         " created_at) VALUES (:pk, 1, :who, :who, '', :hash, :t)"),
                    {"pk": pk, "who": who, "hash": who * 8, "t": T0},
                )  # fmt: skip
            for pk, student, score, flagged in ((1, 1, 28, False), (2, 2, 20, True)):
                connection.execute(
                    text("INSERT INTO submission (id, report_id, student_pk, course_id,"
                         " received_at, created, lab, score, max_score, checks_digest,"
                         " grader_version, engine_id, raw_xml, flagged, flag_reason, via,"
                         " rejected, body_sha256, dialect_version) VALUES (:pk, :rid, :student,"
                         " 1, :t, :t, 'docker_beginners', :score, 28, 'd', 'v', 'e', '<x/>',"
                         " :flagged, '', 'token', :no, 'h', '2')"),
                    {"pk": pk, "rid": f"r{pk}", "student": student, "t": datetime.now(UTC),
                     "score": score, "flagged": flagged, "no": False},
                )  # fmt: skip
    finally:
        engine.dispose()

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
            rows = connection.execute(
                select(Submission.id, Submission.source, Submission.verified_by, Submission.score)
                .order_by(Submission.id)
            ).all()  # fmt: skip
            assert [tuple(row) for row in rows] == [(1, "self", "", 28), (2, "self", "", 20)]
            assert connection.execute(
                select(Instructor.username, Instructor.token_hash, Instructor.token_issued_at)
            ).all() == [("ta", None, None)]
            assert connection.scalar(select(func.count()).select_from(CourseInstructor)) == 0
            assert connection.scalar(select(Course.grade_policy)) == "verified-else-self"
        with make_session_factory(engine)() as session:
            course = session.get(Course, 1)
            assert course is not None
            grades = {row.student.student_id: row.grade for row in course_grades(session, course)}
            assert grades == {"ann": 28, "bob": None}  # as under 0002: bob's report is flagged
    finally:
        engine.dispose()


def test_an_existing_0005_database_keeps_its_gradebook_for_instructors_who_teach_nothing(
    database_url: str,
) -> None:
    """0007 (course scoping): an instructor who taught no course saw every course and still
    does (an administrator); one who teaches a course sees only theirs from now on."""
    back_to(database_url, "0005")  # as a server of that revision left it
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO course (id, slug, name, created_at) VALUES (1, 'c', 'C', :t)"
            ), {"t": T0})  # fmt: skip
            for pk, who in ((1, "teacher"), (2, "ta")):
                connection.execute(text(
                    "INSERT INTO instructor (id, username, password_hash, created_at)"
                    " VALUES (:pk, :who, 'x', :t)"
                ), {"pk": pk, "who": who, "t": T0})  # fmt: skip
            connection.execute(
                text("INSERT INTO course_instructor (course_id, instructor_id) VALUES (1, 2)")
            )
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
            rows = connection.execute(
                select(Instructor.username, Instructor.is_admin).order_by(Instructor.id)
            ).all()
            assert [tuple(row) for row in rows] == [("teacher", True), ("ta", False)]
    finally:
        engine.dispose()
