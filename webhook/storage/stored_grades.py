"""The decided grades, stored: one row per student and assignment, kept current by the change.

The course page of a big course (1,000 students, 8 assignments, 20 reports each) cannot decide
160,000 reports' worth of grades per view in its 300 ms (issue 19). So whatever may change a
grade decides it again, there and then, by the one grade function
(:func:`webhook.storage.queries.student_decision` and
:func:`~webhook.storage.queries.assignment_grades`), and writes the
:class:`~submissions.scoring.Decision` here in its own transaction: the stored value is
that function's, never a second rule. :mod:`webhook.grade_events` is where the changes say
so (flag decisions, exceptions, an assignment's dates or policies, a rescore, a course's
re-check). Ingest only marks the row stale (:func:`mark_stale`, one statement a report), and
the course page decides the stale rows before it reads (:func:`settle`). Nothing in a decision
depends on the time it is read: lateness is the reports' dates against the due time, not "now";
so a stored grade goes stale only by a change, never by the clock.

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
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    Integer,
    bindparam,
    delete,
    insert,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from submissions.scoring import Decision
from webhook.storage.db import write_transaction
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
    their course) and store it, in the caller's transaction. Plain Core statements, made
    once: ingest pays for this at each report."""
    postgres = connection.dialect.name == "postgresql"  # SQLite's writers go one at a time
    query, params = (
        (_ASSIGNMENTS_OF_COURSE, {"pk": student_pk})
        if assignment_ids is None
        else (_ASSIGNMENTS, {"ids": list(assignment_ids)})
    )
    locked = _SHARED[query] if postgres else query
    assignments = [Assignment(**row._mapping) for row in connection.execute(locked, params)]
    if not assignments:
        return
    if postgres:
        connection.execute(_LOCK_STUDENT, {"pk": student_pk})
    for assignment in assignments:
        decision = student_decision(connection, assignment, student_pk)
        connection.execute(_DELETE_ONE, {"a": assignment.id, "pk": student_pk})
        connection.execute(
            insert(AssignmentGrade),
            {"assignment_id": assignment.id, "student_pk": student_pk, **_row(decision)},
        )


#: What a decision reads of an assignment (transient Assignment objects are made of it).
_ASSIGNMENT_COLUMNS = (
    Assignment.id,
    Assignment.course_id,
    Assignment.closes_at,
    Assignment.grade_policy,
    Assignment.late_policy,
)
_ASSIGNMENTS = (
    select(*_ASSIGNMENT_COLUMNS)
    .where(Assignment.id.in_(bindparam("ids", expanding=True)))
    .order_by(Assignment.id)
)
_ASSIGNMENTS_OF_COURSE = (
    select(*_ASSIGNMENT_COLUMNS)
    .where(
        Assignment.course_id
        == select(Student.course_id).where(Student.id == bindparam("pk")).scalar_subquery()
    )
    .order_by(Assignment.id)
)
#: On PostgreSQL the assignments' rows are shared (FOR KEY SHARE): an assignment's refresh
#: (FOR UPDATE) waits for the students' refreshes under way, and they for it.
_SHARED = {
    query: query.with_for_update(key_share=True, read=True)
    for query in (_ASSIGNMENTS, _ASSIGNMENTS_OF_COURSE)
}
# FOR NO KEY UPDATE: what another refresh of the student takes, not a foreign key's check
# (a flag naming the student, written by another student's report).
_LOCK_STUDENT = (
    select(Student.id).where(Student.id == bindparam("pk")).with_for_update(key_share=True)
)
_DELETE_ONE = delete(AssignmentGrade).where(
    AssignmentGrade.assignment_id == bindparam("a"),
    AssignmentGrade.student_pk == bindparam("pk"),
)


def refresh_assignment(
    connection: Connection, assignment_id: int, decided: Mapping[int, Decision] | None = None
) -> list[int]:
    """Decide every student's grade for the assignment again and store what changed, in the
    caller's transaction; the students whose *grade* changed (roster order), the ones an
    LMS must be sent.

    ``decided`` (student key → decision): what :func:`assignment_grades` made of the
    assignment's data as it now is in this transaction, stored as is instead of deciding
    again (a rescore's apply has just made them: deciding 20,000 reports twice would double
    its time). Only for that: whatever else it holds would be stored as the grade.
    """
    with Session(bind=connection) as session:
        assignment = session.scalars(
            select(Assignment).where(Assignment.id == assignment_id).with_for_update()
        ).one_or_none()
        if assignment is None:
            return []
        stored = read(connection, [assignment_id])[assignment_id]
        # a stale row's decision is outdated: written again, and its student told
        outdated = set(connection.scalars(_STALE_OF, {"a": assignment_id}))
        if decided is None:
            decided = {
                row.student.id: row.decision for row in assignment_grades(session, assignment)
            }
    changed = {
        pk: decision
        for pk, decision in decided.items()
        if pk in outdated or pk not in stored or stored[pk] != decision
    }
    _replace(connection, assignment_id, changed)
    return [
        pk
        for pk, decision in decided.items()
        if pk in outdated or stored.get(pk, NO_DECISION).grade != decision.grade
    ]


def mark_stale(connection: Connection, student_pk: int, assignment_id: int | None = None) -> None:
    """A report of ``student_pk`` (for ``assignment_id``; default: any assignment of their
    course) was stored or flagged in this transaction: their stored decision is outdated.
    One statement, what ingest pays per report (deciding there and then cost it a third of
    its throughput on PostgreSQL: bench/ingest --against); :func:`settle` decides it again
    when it is next shown. A row that was not there is made, stale."""
    if assignment_id is None:
        course = select(Student.course_id).where(Student.id == student_pk).scalar_subquery()
        rows: Any = select(Assignment.id, literal(student_pk), true()).where(
            Assignment.course_id == course
        )
    else:
        rows = select(literal(assignment_id), literal(student_pk), true())
    upsert = _UPSERTS[connection.dialect.name](AssignmentGrade).from_select(
        ["assignment_id", "student_pk", "stale"], rows
    )
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["assignment_id", "student_pk"], set_={"stale": true()}
        )
    )


def settle(engine: Engine, course_id: int, *, many: int = 50) -> int:
    """Decide again the course's stale grades (:func:`mark_stale`), in a write transaction
    of their own; how many. First one read without the write lock: the course page's
    usual case, nothing stale, costs that."""
    with engine.connect() as connection:
        if connection.execute(_ANY_STALE, {"course": course_id}).first() is None:
            return 0
    with write_transaction(engine) as connection:
        return settle_stale(connection, course_id=course_id, many=many)


def settle_stale(
    connection: Connection,
    *,
    course_id: int | None = None,
    assignment_id: int | None = None,
    many: int = 50,
) -> int:
    """Decide again, in the caller's write transaction, the stale grades of the course or
    of the assignment; how many. An assignment with ``many`` stale rows or more is decided
    whole (one pass over its reports) rather than student by student. Listeners are not
    told: they were when each report was stored. A whole assignment's or course's change
    (a rescore, ``assignment set``, a re-check) settles first, so that it tells the LMS of
    the students whose grade *it* changed, not of those a report had changed before.

    Races: on PostgreSQL the stale rows are locked (FOR UPDATE) before deciding, so a
    report committing meanwhile either marks its row after this commits (decided again
    next time) or made this wait and is seen (READ COMMITTED reads it)."""
    postgres = connection.dialect.name == "postgresql"
    query, params = (
        (_STALE, {"course": course_id})
        if assignment_id is None
        else (_STALE_PAIRS_OF, {"a": assignment_id})
    )
    stale: dict[int, list[int]] = {}
    for stale_assignment, student_pk in connection.execute(
        query.with_for_update(of=AssignmentGrade) if postgres else query, params
    ):
        stale.setdefault(stale_assignment, []).append(student_pk)
    for stale_assignment, students in stale.items():
        if len(students) < many:
            for student_pk in students:  # each row written again, not stale
                refresh_student(connection, student_pk, [stale_assignment])
            continue
        refresh_assignment(connection, stale_assignment)  # the stale ones written again
    return sum(len(students) for students in stale.values())


_UPSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_STALE = (
    select(AssignmentGrade.assignment_id, AssignmentGrade.student_pk)
    .join(Assignment, Assignment.id == AssignmentGrade.assignment_id)
    .where(Assignment.course_id == bindparam("course"), AssignmentGrade.stale)
    .order_by(AssignmentGrade.assignment_id, AssignmentGrade.student_pk)
)
_STALE_OF = select(AssignmentGrade.student_pk).where(
    AssignmentGrade.assignment_id == bindparam("a"), AssignmentGrade.stale
)
_STALE_PAIRS_OF = (
    select(AssignmentGrade.assignment_id, AssignmentGrade.student_pk)
    .where(AssignmentGrade.assignment_id == bindparam("a"), AssignmentGrade.stale)
    .order_by(AssignmentGrade.student_pk)
)
_ANY_STALE = _STALE.with_only_columns(AssignmentGrade.student_pk).limit(1)


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
