"""The rows a command names on its command line: a course by its slug, an instructor by login.

Not found is :class:`~webhook.cli.errors.NotFound` (exit 3), with the command that makes one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.cli.errors import NotFound
from webhook.storage.models import Course, Instructor


def find_course(session: Session, slug: str) -> Course:
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound(f"no course {slug!r} (create it with `grade-server course create`)")
    return course


def find_instructor(session: Session, username: str) -> Instructor:
    instructor = session.scalar(select(Instructor).where(Instructor.username == username))
    if instructor is None:
        raise NotFound(
            f"no instructor {username[:100]!r} (create one with `grade-server instructor create`)"
        )
    return instructor
