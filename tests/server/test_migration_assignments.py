"""Migration 0011 (issue 19): every course becomes one assignment of its lab, nothing re-scored.

A populated database of release 0008 (two seeded classes with late, flagged, rejected and
verified reports under three grade policies, and a course with nobody) is upgraded; every
student's grade and both exports must then be byte for byte what release 0008 wrote. Those
are kept in ``data/release_0008.json``, written by release 0008's own code
(``python -m tests.server.test_migration_assignments`` on that release).
"""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, select, text, update
from sqlalchemy.orm import Session

from devlab.server.enrolment import app_config
from devlab.server.sample import START, seed_class
from submissions.rubric import Rubric, RubricEntry, rubric_from_json, shipped_rubric
from webhook import create_app
from webhook.export import FORMATS, export_grades
from webhook.storage.assignments import newest_rubric
from webhook.storage.db import alembic_config, make_engine, make_session_factory, upgrade
from webhook.storage.models import (
    Assignment,
    AssignmentRubric,
    Base,
    Course,
    Student,
    Submission,
)
from webhook.storage.queries import course_grades

from .test_migrations import HEAD, back_to

GOLDEN = Path(__file__).parent / "data" / "release_0008.json"
#: The tables of release 0008 that hold the class (what the copy carries over).
TABLES_0008 = ("course", "student", "submission", "check_result", "flag", "evidence_key")


def seed_scratch(url: str) -> None:
    """The class, seeded at this release's head by the gradebook's seeded makers, then given
    what 0008 grades differently: a deadline, rejected and verified reports, three policies."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rubric = shipped_rubric()
            seed_class(session, rubric, slug="docker-101", students=16, reports_per_student=4,
                       silent=2, flag_every=5)  # fmt: skip
            seed_class(session, rubric, slug="docker-202", name="Docker again", students=6,
                       reports_per_student=3, seed=2, flag_every=1000)  # fmt: skip
            session.add(Course(slug="empty", name="Nobody", created_at=START))
            _vary(session)
    finally:
        engine.dispose()


def _vary(session: Session) -> None:
    courses = {c.slug: c for c in session.scalars(select(Course))}
    first, second, empty = courses["docker-101"], courses["docker-202"], courses["empty"]
    first.closes_at = START + timedelta(hours=80)
    first.opens_at = START
    second.grade_policy = "self"
    empty.grade_policy = "verified"
    ids = session.scalars(
        select(Submission.id).where(Submission.course_id == first.id).order_by(Submission.id)
    ).all()
    session.execute(update(Submission).where(Submission.id.in_(ids[::7])).values(rejected=True))
    session.execute(
        update(Submission)
        .where(Submission.id.in_(ids[3::6]))
        .values(source="verified", verified_by="prof")
    )
    session.commit()


def populated_0008(url: str, scratch_url: str) -> None:
    """The database at ``url`` as release 0008 left it, holding the seeded class."""
    seed_scratch(scratch_url)
    source, target = make_engine(scratch_url), make_engine(url)
    try:
        present = MetaData()
        present.reflect(target, only=TABLES_0008)
        tables = {  # the models' columns (times as UTC) that release 0008 has
            name: Table(name, MetaData(), *(
                Column(c.name, c.type, primary_key=c.primary_key)
                for c in Base.metadata.tables[name].columns
                if c.name in present.tables[name].c
            ))
            for name in TABLES_0008
        }  # fmt: skip
        with source.connect() as reading, target.begin() as writing:
            for table in tables.values():
                rows = [dict(row._mapping) for row in reading.execute(select(table))]
                if rows:
                    writing.execute(table.insert(), rows)
            if writing.dialect.name == "postgresql":  # ids were given: move the sequences on
                for name in TABLES_0008:
                    if "id" in tables[name].c:
                        writing.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                            f" coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
                        ))  # fmt: skip
    finally:
        source.dispose()
        target.dispose()


def grades_and_exports(url: str) -> dict[str, Any]:
    """Every student's grade and both exports of every course, as this release makes them."""
    app = create_app(app_config(url))
    try:
        with app.app_context():
            engine = app.extensions["grader_db"].engine
            with make_session_factory(engine)() as session:
                found: dict[str, Any] = {}
                for course in session.scalars(select(Course).order_by(Course.slug)):
                    grades = {
                        row.student.student_id: row.grade for row in course_grades(session, course)
                    }
                    exports = {}
                    for fmt in FORMATS:
                        out = io.StringIO()
                        export_grades(session, course, out, fmt=fmt)
                        exports[fmt] = out.getvalue()
                    found[course.slug] = {"grades": grades, "exports": exports}
                assert session.scalar(select(Student.id).limit(1)) is not None
                return found
    finally:
        app.extensions["grader_db"].dispose()


def test_every_grade_and_export_is_as_release_0008_made_them(
    database_url: str, tmp_path: Path
) -> None:
    back_to(database_url, "0010")
    populated_0008(database_url, f"sqlite:///{tmp_path}/scratch.sqlite")
    upgrade(database_url)
    assert grades_and_exports(database_url) == json.loads(GOLDEN.read_text())
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            courses = session.scalars(select(Course).order_by(Course.id)).all()
            made = session.scalars(select(Assignment).order_by(Assignment.course_id)).all()
            assert [(a.course_id, a.slug, a.lab, a.title, a.opens_at, a.closes_at,
                     a.grade_policy) for a in made] == [
                (c.id, "docker_beginners", "docker_beginners", f"{c.name} lab", c.opens_at,
                 c.closes_at, c.grade_policy) for c in courses
            ]  # fmt: skip
            versions = session.execute(
                select(AssignmentRubric.version, AssignmentRubric.rubric)
            ).all()
            assert [v for v, _ in versions] == [1, 1, 1]
            assert {rubric_from_json(text) for _, text in versions} == {shipped_rubric()}
            filed = session.execute(
                select(Submission.course_id, Assignment.course_id).join(
                    Assignment, Assignment.id == Submission.assignment_id
                )
            ).all()
            assert filed and all(mine == theirs for mine, theirs in filed)
    finally:
        engine.dispose()


def test_the_migration_takes_the_rubric_the_server_is_given(sqlite_url: str) -> None:
    """``grade-server db upgrade`` hands over the app's rubric (``GRADER_RUBRIC``)."""
    back_to(sqlite_url, "0010")
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO course (id, slug, name, created_at, grade_policy)"
                " VALUES (1, 'c', 'C', '2026-11-02 09:00:00', 'self')"
            ))  # fmt: skip
    finally:
        engine.dispose()
    own = Rubric(lab="tiny", entries=(RubricEntry("a.b", "a", "A", 5),))
    upgrade(sqlite_url, rubric_json=own.to_json())
    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            assignment = session.scalars(select(Assignment)).one()
            assert (assignment.slug, assignment.lab) == ("tiny", "tiny")
            assert newest_rubric(session, assignment.id) == own
    finally:
        engine.dispose()


def test_a_downgrade_below_0011_is_refused_naming_the_revision(sqlite_url: str) -> None:
    from alembic import command

    config = alembic_config(sqlite_url)
    with pytest.raises(RuntimeError, match=r"^revision 0011 \(assignments\) cannot be down"):
        command.downgrade(config, "0010")
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            # refused whole: still at the head (the later revisions' downgrades rolled back)
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
    finally:
        engine.dispose()


if __name__ == "__main__":  # release 0008 writes the golden file
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url, scratch = f"sqlite:///{folder}/old.sqlite", f"sqlite:///{folder}/scratch.sqlite"
        upgrade(url, "0008")
        populated_0008(url, scratch)
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(grades_and_exports(url), indent=1, sort_keys=True) + "\n")
        sys.exit(0)
