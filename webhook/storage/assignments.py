"""Assignments and their rubric versions: made, found, and read back as rubrics.

One place writes a new assignment (with its rubric as version 1) and a new rubric version,
so that the CLI, the seeded classes and the tests make them alike; and one place reads an
assignment's newest rubric, parsed once per (assignment, version) and process: every report
is scored from it, and a rubric never changes once stored (a change is a new version).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from submissions.rubric import Rubric, rubric_from_json
from webhook.storage.models import Assignment, AssignmentRubric, Course


def by_slug(session: Session, course_id: int, slug: str) -> Assignment | None:
    """The course's assignment ``slug`` (``None``: it has none of that name)."""
    return session.scalar(
        select(Assignment).where(Assignment.course_id == course_id, Assignment.slug == slug)
    )


def add_assignment(
    session: Session,
    course: Course,
    rubric: Rubric,
    *,
    slug: str | None = None,
    title: str | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    grade_policy: str | None = None,
    created_by: str = "",
) -> Assignment:
    """A new assignment of ``rubric``'s lab in ``course``, ``rubric`` its version 1.

    Dates and grade policy default to the course's; the slug to the lab's name and the
    title to ``<course name> lab`` (the exports' column, as before assignments). Flushed.
    """
    assignment = Assignment(
        course_id=course.id,
        slug=slug or rubric.lab,
        lab=rubric.lab,
        title=title or f"{course.name} lab",
        opens_at=course.opens_at if opens_at is None else opens_at,
        closes_at=course.closes_at if closes_at is None else closes_at,
        grade_policy=grade_policy or course.grade_policy,
    )
    session.add(assignment)
    session.flush()
    add_rubric_version(session, assignment, rubric, created_by=created_by)
    return assignment


def add_rubric_version(
    session: Session, assignment: Assignment, rubric: Rubric, *, created_by: str = ""
) -> AssignmentRubric:
    """The assignment's next rubric version (the old ones are kept as they were). Flushed."""
    newest = session.scalar(
        select(func.max(AssignmentRubric.version)).where(
            AssignmentRubric.assignment_id == assignment.id
        )
    )
    row = AssignmentRubric(
        assignment_id=assignment.id,
        version=(newest or 0) + 1,
        rubric=rubric.to_json(),
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


_NEWEST = (
    select(AssignmentRubric.version, AssignmentRubric.rubric)
    .where(AssignmentRubric.assignment_id == bindparam("assignment_id"))
    .order_by(AssignmentRubric.version.desc())
    .limit(1)
)


def newest_rubric(connection: Connection | Session, assignment_id: int) -> Rubric:
    """The assignment's newest rubric version, the one new reports are scored from."""
    return newest_version(connection, assignment_id)[1]


def newest_version(connection: Connection | Session, assignment_id: int) -> tuple[int, Rubric]:
    """The assignment's newest rubric and its version number (what a score records)."""
    row = connection.execute(_NEWEST, {"assignment_id": assignment_id}).one()
    return row.version, _parsed(assignment_id, row.version, row.rubric)


def rubric_versions(
    connection: Connection | Session, assignment_id: int, versions: Iterable[int]
) -> dict[int, Rubric]:
    """Some stored versions of the assignment's rubric (what older scores were computed
    from), by version."""
    rows = connection.execute(
        select(AssignmentRubric.version, AssignmentRubric.rubric).where(
            AssignmentRubric.assignment_id == assignment_id,
            AssignmentRubric.version.in_(list(versions)),
        )
    )
    return {row.version: _parsed(assignment_id, row.version, row.rubric) for row in rows}


def stored_rubric(assignment_id: int, version: int, text: str) -> Rubric:
    """A stored version's text (read with others' columns) as a rubric, parsed once."""
    return _parsed(assignment_id, version, text)


@functools.lru_cache(maxsize=256)
def _parsed(assignment_id: int, version: int, text: str) -> Rubric:
    """A stored version never changes: parse it once (``text`` is part of the key all the
    same, as another database may hold other rubrics under the same ids)."""
    return rubric_from_json(text, source=f"assignment {assignment_id}'s rubric v{version}")
