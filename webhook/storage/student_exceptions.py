"""Each student's exceptions to an assignment, as stored: set, removed, read back.

An extension, *excused* and an override are rows of :class:`AssignmentException`, one per
kind in force per student; setting a kind again or removing it closes the row in force
(who, when, why) instead of changing or deleting it, so an assignment's page can list
every exception ever made. What the rows mean for a grade is
:class:`submissions.exceptions.Exceptions`'s, built here in one query per assignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.orm import Session

from submissions.exceptions import Exceptions, Override
from webhook.storage.models import AssignmentException, Student, utcnow

#: Exception kinds in the order they are shown.
KINDS = ("extension", "excused", "override")


def in_force(
    connection: Connection | Session, assignment_id: int, student_pk: int | None = None
) -> dict[int, Exceptions]:
    """Student key → the exceptions in force on the assignment (of one student, if given);
    students without any are left out (they have :data:`~submissions.exceptions.NO_EXCEPTIONS`)."""
    query = select(
        AssignmentException.student_pk,
        AssignmentException.kind,
        AssignmentException.until,
        AssignmentException.extra_days,
        AssignmentException.grade,
        AssignmentException.note,
    ).where(
        AssignmentException.assignment_id == assignment_id,
        AssignmentException.removed_at.is_(None),
    )
    if student_pk is not None:
        query = query.where(AssignmentException.student_pk == student_pk)
    found: dict[int, dict[str, object]] = {}
    for pk, kind, until, extra_days, grade, note in connection.execute(query):
        values = found.setdefault(pk, {})
        if kind == "extension":
            values.update(until=until, extra_days=extra_days)
        elif kind == "excused":
            values["excused"] = True
        elif kind == "override" and grade is not None:
            values["override"] = Override(grade, note)
    return {pk: Exceptions(**values) for pk, values in found.items()}  # type: ignore[arg-type]


def set_exception(
    connection: Connection,
    *,
    assignment_id: int,
    student_pk: int,
    kind: str,
    note: str,
    by: str,
    until: datetime | None = None,
    extra_days: int = 0,
    grade: int | None = None,
) -> None:
    """Put ``kind`` in force for the student, closing the one it replaces (kept as history)."""
    remove_exception(
        connection, assignment_id=assignment_id, student_pk=student_pk, kind=kind,
        note="replaced", by=by,
    )  # fmt: skip
    connection.execute(
        insert(AssignmentException).values(
            assignment_id=assignment_id, student_pk=student_pk, kind=kind, until=until,
            extra_days=extra_days, grade=grade, note=note, set_by=by, set_at=utcnow(),
            removed_by="", removed_note="",
        )
    )  # fmt: skip


def remove_exception(
    connection: Connection, *, assignment_id: int, student_pk: int, kind: str, note: str, by: str
) -> bool:
    """End the student's ``kind`` in force, if any (the row stays, closed); whether one was."""
    done = connection.execute(
        update(AssignmentException)
        .where(
            AssignmentException.assignment_id == assignment_id,
            AssignmentException.student_pk == student_pk,
            AssignmentException.kind == kind,
            AssignmentException.removed_at.is_(None),
        )
        .values(removed_at=utcnow(), removed_by=by, removed_note=note)
    )
    return bool(done.rowcount)


def history(session: Session, assignment_id: int) -> Sequence[Row[str, AssignmentException]]:
    """Every exception ever made on the assignment, with the student's roster id, oldest first."""
    return session.execute(
        select(Student.student_id, AssignmentException)
        .join(Student, Student.id == AssignmentException.student_pk)
        .where(AssignmentException.assignment_id == assignment_id)
        .order_by(AssignmentException.set_at, AssignmentException.id)
    ).all()


def overrides_above(session: Session, assignment_id: int, maximum: int) -> list[tuple[str, int]]:
    """The overrides in force above ``maximum`` (roster id, grade): a rubric whose maximum is
    lower cannot be given to the assignment until they are settled."""
    rows = session.execute(
        select(Student.student_id, AssignmentException.grade)
        .join(Student, Student.id == AssignmentException.student_pk)
        .where(
            AssignmentException.assignment_id == assignment_id,
            AssignmentException.kind == "override",
            AssignmentException.removed_at.is_(None),
            AssignmentException.grade > maximum,
        )
        .order_by(Student.student_id)
    )
    return [(student_id, grade) for student_id, grade in rows if grade is not None]
