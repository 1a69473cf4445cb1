"""Migration 0015 (issue 19, the course page's speed): every existing grade is stored, as the
grade function decides it; down drops the table and nothing else.

A database as release 0014 left it: a class seeded at head with late, flagged, rejected and
verified reports, two assignments (the second with a penalty and its own copies of the
reports), each kind of exception in force and one removed, an enrolled student without
reports; then the table and the index 0015 adds are dropped and the revision set back to
0014 (0015 only adds them). After the upgrade, every student's stored decision of every assignment
equals :func:`webhook.storage.queries.assignment_grades`' (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import func, insert, inspect, literal, select, text, update
from sqlalchemy.orm import Session

from devlab.server.sample import START, seed_class
from submissions.rubric import shipped_rubric
from tests.server.test_migrations import BOARD_TABLES
from webhook.storage import stored_grades
from webhook.storage.assignments import add_assignment
from webhook.storage.db import alembic_config, make_engine, make_session_factory, upgrade
from webhook.storage.grade_models import AssignmentGrade
from webhook.storage.models import Assignment, Course, Student, Submission
from webhook.storage.queries import NO_DECISION, assignment_grades
from webhook.storage.student_exceptions import remove_exception, set_exception

COPIED = ("student_pk", "course_id", "received_at", "created", "lab", "score", "max_score",
          "checks_digest", "grader_version", "engine_id", "raw_xml", "flagged", "flag_reason",
          "via", "dialect_version", "rejected", "source", "verified_by")  # fmt: skip


def populated_0014(url: str) -> None:
    """The class of the module's docstring, in the database at ``url`` (at head) taken back
    to revision 0014."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            seed_class(session, shipped_rubric(), students=12, reports_per_student=4,
                       silent=2, flag_every=5)  # fmt: skip
            _vary(session)
        with engine.begin() as connection:
            for later in (*BOARD_TABLES, "assignment_grade"):  # 0016's, then 0015's
                connection.execute(text(f"DROP TABLE {later}"))
            connection.execute(text("DROP INDEX ix_submission_student_assignment"))
            connection.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    finally:
        engine.dispose()


def _vary(session: Session) -> None:
    course = session.scalars(select(Course)).one()
    first = session.scalars(select(Assignment)).one()
    first.closes_at = START + timedelta(hours=60)
    ids = session.scalars(select(Submission.id).order_by(Submission.id)).all()
    session.execute(update(Submission).where(Submission.id.in_(ids[::7])).values(rejected=True))
    session.execute(
        update(Submission)
        .where(Submission.id.in_(ids[3::9]))
        .values(source="verified", verified_by="prof")
    )
    second = add_assignment(session, course, shipped_rubric(), slug="retake", title="Retake")
    second.closes_at = START + timedelta(hours=30)
    second.late_policy = "penalty:grace=1h,per-day=10%,floor=50%"
    columns = [getattr(Submission, name) for name in COPIED]
    session.execute(
        insert(Submission).from_select(
            [*COPIED, "assignment_id", "report_id"],
            select(*columns, literal(second.id), Submission.report_id + "-r").where(
                Submission.assignment_id == first.id
            ),
        )
    )
    session.add(Student(course_id=course.id, student_id="zz-new", name="New", token_hash="n"))
    pks = session.scalars(select(Student.id).order_by(Student.student_id)).all()
    connection = session.connection()
    for assignment, pk, kind, values in (
        (first, pks[0], "extension", {"extra_days": 3}),
        (first, pks[1], "excused", {}),
        (first, pks[2], "override", {"grade": 11}),
        (second, pks[3], "extension", {"extra_days": 1}),
        (second, pks[4], "override", {"grade": 3}),
    ):
        set_exception(connection, assignment_id=assignment.id, student_pk=pk, kind=kind,
                      note="why", by="prof", **values)  # type: ignore[arg-type]  # fmt: skip
    remove_exception(connection, assignment_id=second.id, student_pk=pks[4], kind="override",
                     note="undo", by="prof")  # fmt: skip
    session.commit()


def test_the_upgrade_stores_every_grade_as_computed(database_url: str) -> None:
    populated_0014(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assignments = session.scalars(select(Assignment).order_by(Assignment.id)).all()
            stored = stored_grades.read(session, [a.id for a in assignments])
            marks: set[str] = set()
            for assignment in assignments:
                rows = assignment_grades(session, assignment)
                assert len(rows) == 13
                for row in rows:
                    kept = stored[assignment.id].get(row.student.id, NO_DECISION)
                    assert kept == row.decision, (assignment.slug, row.student.student_id)
                    marks |= set(row.decision.marks)
                    if row.decision.penalty:
                        marks.add("penalty")
            # the comparison covered what the table must hold: grades, penalties, every mark
            assert {"late", "extended", "excused", "overridden", "penalty"} <= marks
            assert session.scalar(select(func.count()).select_from(AssignmentGrade)) == 26
    finally:
        engine.dispose()


def test_the_downgrade_drops_the_table_and_index_only(database_url: str) -> None:
    populated_0014(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            reports = connection.scalar(select(func.count()).select_from(Submission))
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0014")
            connection.commit()
            assert "assignment_grade" not in inspect(connection).get_table_names()
            indexes = {i["name"] for i in inspect(connection).get_indexes("submission")}
            assert "ix_submission_student_assignment" not in indexes
            assert connection.scalar(select(func.count()).select_from(Submission)) == reports
    finally:
        engine.dispose()
