"""A course enrolled straight into a migrated database, and the app's configuration for tests.

``enrol`` writes a course, its students (with known tokens) and an instructor through the
storage models, faster than the ``grade-server`` commands that
:mod:`devlab.server.classroom` types; the server's tests, the LTI tests and the benchmarks
start from it.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

from submissions.rubric import Rubric, shipped_rubric
from webhook.auth import hash_password
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import Course, Instructor, Student
from webhook.storage.tokens import hash_token

SIGNING_SECRET = "whsec_" + base64.b64encode(b"a test secret of thirty-two bytes").decode()
INSTRUCTOR = ("prof", "correct horse battery")


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


def app_config(url: str, **overrides: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test secret key",
        "SIGNING_SECRET": SIGNING_SECRET,
        "RATE_LIMIT": "1000/minute",
        **overrides,
    }


@dataclass(frozen=True)
class Classroom:
    url: str
    course: str
    tokens: dict[str, str]  # roster id → token
    instructor: tuple[str, str]

    def bearer(self, student: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[student]}"}


def enrol(
    url: str,
    students: tuple[str, ...] = ("ann", "bob"),
    course: str = "docker-101",
    rubric: Rubric | None = None,
    *,
    admin: bool = True,
) -> Classroom:
    """The course (one assignment of ``rubric``'s lab, the shipped rubric's by default),
    its students with known tokens, and an administrator (``admin=False``: a second
    course of the same database, whose administrator is the first's)."""
    engine = make_engine(url)
    tokens = {student: f"token-of-{student}-{uuid.uuid4().hex}" for student in students}
    try:
        with make_session_factory(engine)() as session:
            row = Course(slug=course, name="Docker 101")
            session.add(row)
            session.flush()
            add_assignment(session, row, rubric or shipped_rubric())
            for student, token in tokens.items():
                session.add(
                    Student(course_id=row.id, student_id=student, name=student.title(),
                            email=f"{student}@example.edu", token_hash=hash_token(token))
                )  # fmt: skip
            if admin:  # a server administrator: reads every course, verifies none
                session.add(
                    Instructor(
                        username=INSTRUCTOR[0],
                        password_hash=hash_password(INSTRUCTOR[1]),
                        is_admin=True,
                    )
                )
            session.commit()
    finally:
        engine.dispose()
    return Classroom(url=url, course=course, tokens=tokens, instructor=INSTRUCTOR)
