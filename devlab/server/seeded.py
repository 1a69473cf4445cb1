"""The gradebook's seeded class: the sample generator's students plus two whose every number
the tests know (``ann``: flagged then full marks; ``bob``: one report), the app on it, and the
CSRF token a form carries. The gradebook's fixtures and bench/student_storage start from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from devlab.server.sample import seed_class
from submissions.rubric import Rubric
from webhook.auth import hash_password
from webhook.storage import stored_grades
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import (
    Assignment,
    Course,
    CourseInstructor,
    Flag,
    Instructor,
    Student,
    Submission,
    SubmissionCheck,
)

USERNAME = "teacher"
PASSWORD = "correct horse battery staple"
COURSE = "docker-101"
SAMPLE_STUDENTS = 12
SAMPLE_SILENT = 2
#: The engine of the seeded reports, as Docker writes an engine id (12 groups of 4 base32).
ENGINE_ID = ":".join(["SEED"] * 12)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    url: str
    rubric: Rubric
    username: str
    password: str
    course: str
    ann_flagged: int  # submission ids
    ann_full: int
    bob_only: int

    @property
    def students(self) -> int:
        return SAMPLE_STUDENTS + 2


def _report(
    student: Student, when: datetime, rubric: Rubric, failing: set[str], **extra: object
) -> Submission:
    checks = [
        SubmissionCheck(
            check_id=e.id,
            task=e.task,
            status="failed" if e.id in failing else "passed",
            points=0 if e.id in failing else e.points,
            max_points=e.points,
            message=f"found nothing for {e.id}" if e.id in failing else "",
            hint=f"docker run … ({e.id})" if e.id in failing else "",
        )
        for e in rubric.entries
    ]
    return Submission(
        report_id=f"{student.student_id}-{when:%H%M%S}",
        student=student,
        course_id=student.course_id,
        received_at=when,
        created=when - timedelta(seconds=1),
        lab=rubric.lab,
        score=sum(c.points for c in checks),
        max_score=rubric.max_score,
        checks_digest="sha256:" + "ab" * 32,
        grader_version="0.1.0",
        engine_id=ENGINE_ID,
        raw_xml="<testsuites/>",
        via="token",
        checks=checks,
        **extra,
    )


def seed_database(url: str, rubric: Rubric) -> Seeded:
    """Migrate a fresh database at ``url`` and fill it with the test class."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            teacher = Instructor(username=USERNAME, password_hash=hash_password(PASSWORD))
            session.add(teacher)
            sample = seed_class(
                session,
                rubric,
                slug=COURSE,
                students=SAMPLE_STUDENTS,
                reports_per_student=4,
                silent=SAMPLE_SILENT,
                flag_every=1000,
            )
            course = session.get(Course, sample.course_id)
            assert course is not None
            session.add(CourseInstructor(course_id=course.id, instructor_id=teacher.id))
            assignment = session.scalars(
                select(Assignment.id).where(Assignment.course_id == course.id)
            ).one()
            ann = Student(
                course_id=course.id,
                student_id="zz-ann",
                name="Ann Example",
                email="ann@example.edu",
                token_hash="a" * 64,
            )
            bob = Student(
                course_id=course.id,
                student_id="zz-bob",
                name="Bob Example",
                email="bob@example.edu",
                token_hash="b" * 64,
            )
            flagged = _report(
                ann,
                T0,
                rubric,
                {"tweet.serves", "figlet.committed"},
                flagged=True,
                flag_reason="unknown grader version 9.9.9",
                assignment_id=assignment,
            )
            full = _report(ann, T0 + timedelta(hours=2), rubric, set(), assignment_id=assignment)
            only = _report(
                bob, T0 + timedelta(hours=1), rubric, {"mydb.version"}, assignment_id=assignment
            )
            session.add_all([ann, bob, flagged, full, only])
            session.flush()
            session.add(
                Flag(
                    key=f"{flagged.id}:not_our_checks:",
                    course_id=course.id,
                    student_pk=ann.id,
                    submission_id=flagged.id,
                    kind="not_our_checks",
                    reason="unknown grader version 9.9.9",
                    created_at=T0,
                )
            )
            session.flush()  # written past the hooks: the stored grades as the server keeps them
            stored_grades.refresh_assignment(session.connection(), assignment)
            session.commit()
            return Seeded(url, rubric, USERNAME, PASSWORD, COURSE, flagged.id, full.id, only.id)
    finally:
        engine.dispose()


def make_app(url: str, instance: Path) -> Flask:
    from webhook import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "gradebook tests",
            "RATE_LIMIT": "0/minute",
        }
    )
    app.instance_path = str(instance)
    return app


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match[1]
