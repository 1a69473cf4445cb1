"""The decided grades, stored: one row per student and assignment, kept current by the change.

The course page of a big course (1,000 students, 8 assignments, 20 reports each) cannot decide
160,000 reports' worth of grades per view in its 300 ms (issue 19). So whatever may change a
grade decides it again, there and then, by the one grade function
(:func:`webhook.storage.queries.student_decision` and
:func:`~webhook.storage.queries.assignment_grades`), and writes the
:class:`~submissions.scoring.Decision` here in its own transaction: the stored value is
that function's, never a second rule. :mod:`webhook.grade_events` is where the changes say
so (ingest, flag decisions, exceptions, an assignment's dates or policies, a rescore, a
course's re-check). Nothing in a decision depends on the time it is read: lateness is the
reports' dates against the due time, not "now"; so a stored grade goes stale only by a
change, never by the clock.

Missing row: nothing decided (a student enrolled since, an assignment made since), which is
:data:`webhook.storage.queries.NO_DECISION`, exactly what deciding would give them (no
report, no exception). Rows go with their student or assignment (``ON DELETE CASCADE``).

Races: on SQLite one writer at a time (:func:`webhook.storage.db.write_lock`). On
PostgreSQL a student's refresh locks the student's row and shares the assignment's, and an
assignment's refresh locks the assignment's row (as :mod:`webhook.rescore` does): a decision
is made after every change it must see has committed, and written before the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Boolean, Connection, Integer, delete, insert, select, type_coerce
from sqlalchemy.orm import Session

from submissions.scoring import Decision
from webhook.storage.grade_models import AssignmentGrade
from webhook.storage.models import Assignment, Student
from webhook.storage.queries import NO_DECISION, assignment_grades, student_decision

#: The stored columns, as :class:`~submissions.scoring.Decision` names them.
FIELDS = ("grade", "raw", "penalty", "report_id", "late", "extended", "excused", "overridden")
_COLUMNS = [getattr(AssignmentGrade, name) for name in FIELDS]
#: As read: the marks as plain integers, which SQLAlchemy hands over as they come (its
#: Boolean conversion, per value in Python, was most of the read of a course's 8,000 rows).
_READ = [
    type_coerce(column, Integer) if isinstance(column.type, Boolean) else column
    for column in _COLUMNS
]


def _row(decision: Decision) -> dict[str, object]:
    return {name: getattr(decision, name) for name in FIELDS}


def read(
    connection: Connection | Session, assignment_ids: Sequence[int]
) -> dict[int, dict[int, Decision]]:
    """Assignment id → student key → stored decision (a student without a row is left out:
    :data:`~webhook.storage.queries.NO_DECISION`). One query for all of them."""
    found: dict[int, dict[int, Decision]] = {a: {} for a in assignment_ids}
    if not assignment_ids:
        return found
    if isinstance(connection, Session):  # plain rows: the ORM's row loading is not needed
        connection = connection.connection()
    rows = connection.execute(
        select(AssignmentGrade.assignment_id, AssignmentGrade.student_pk, *_READ).where(
            AssignmentGrade.assignment_id.in_(assignment_ids)
        )
    ).all()
    for a, pk, grade, raw, penalty, report_id, late, extended, excused, overridden in rows:
        found[a][pk] = Decision(
            grade, raw, penalty, report_id, bool(late), bool(extended), bool(excused),
            bool(overridden),
        )  # fmt: skip
    return found


def refresh_student(
    connection: Connection, student_pk: int, assignment_ids: Iterable[int] | None = None
) -> None:
    """Decide the student's grade again for ``assignment_ids`` (default: every assignment of
    their course) and store it, in the caller's transaction."""
    with Session(bind=connection) as session:
        if assignment_ids is None:
            course = select(Student.course_id).where(Student.id == student_pk)
            query = select(Assignment).where(Assignment.course_id == course.scalar_subquery())
        else:
            query = select(Assignment).where(Assignment.id.in_(list(assignment_ids)))
        assignments = session.scalars(
            query.order_by(Assignment.id).with_for_update(key_share=True, read=True)
        ).all()
        if not assignments:
            return
        # FOR NO KEY UPDATE: what another refresh of the student takes, not a foreign key's
        # check (a flag naming the student, written by another student's report)
        session.execute(
            select(Student.id).where(Student.id == student_pk).with_for_update(key_share=True)
        )
        for assignment in assignments:
            decision = student_decision(session, assignment, student_pk)
            _replace(connection, assignment.id, {student_pk: decision})


def refresh_assignment(
    connection: Connection, assignment_id: int, decided: Mapping[int, Decision] | None = None
) -> list[int]:
    """Decide every student's grade for the assignment again and store what changed, in the
    caller's transaction; the students whose *grade* changed (roster order), the ones an
    LMS must be sent. ``decided`` (student key → decision, in roster order): every student's
    decision, made by the grade function in this transaction already (a rescore's apply
    plans them), not decided a second time."""
    with Session(bind=connection) as session:
        assignment = session.scalars(
            select(Assignment).where(Assignment.id == assignment_id).with_for_update()
        ).one_or_none()
        if assignment is None:
            return []
        stored = read(connection, [assignment_id])[assignment_id]
        if decided is None:
            decided = {
                row.student.id: row.decision for row in assignment_grades(session, assignment)
            }
    changed = {
        pk: decision
        for pk, decision in decided.items()
        if pk not in stored or stored[pk] != decision
    }
    _replace(connection, assignment_id, changed)
    return [
        pk
        for pk, decision in decided.items()
        if stored.get(pk, NO_DECISION).grade != decision.grade
    ]


def fill(connection: Connection) -> int:
    """Decide and store every student's grade for every assignment (migration 0015: the
    database's existing grades); how many assignments."""
    ids = connection.scalars(select(Assignment.id).order_by(Assignment.id)).all()
    for assignment_id in ids:
        refresh_assignment(connection, assignment_id)
    return len(ids)


def _replace(connection: Connection, assignment_id: int, decided: Mapping[int, Decision]) -> None:
    """Put ``decided`` (student key → decision) in place of the assignment's stored rows of
    those students: two statements, whatever the database (no upsert dialect needed)."""
    if not decided:
        return
    pks = list(decided)
    for start in range(0, len(pks), 500):  # bound parameters per statement stay few
        chunk = pks[start : start + 500]
        connection.execute(
            delete(AssignmentGrade).where(
                AssignmentGrade.assignment_id == assignment_id,
                AssignmentGrade.student_pk.in_(chunk),
            )
        )
    connection.execute(
        insert(AssignmentGrade),
        [
            {"assignment_id": assignment_id, "student_pk": pk, **_row(decision)}
            for pk, decision in decided.items()
        ],
    )
