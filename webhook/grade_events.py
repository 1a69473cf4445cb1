"""One hook for "a student's grade may have changed": the core tells it, features listen.

Whatever may change a student's grade (an instructor deciding on a flag, an exception set or
removed) calls :func:`notify_grade_changed` inside the transaction that makes the change, on
that transaction's connection; ingest storing a report calls :func:`report_stored` (the
grade is decided when next shown, not at each report); a change to a whole
assignment (its dates or policies, a rescore's apply) calls :func:`assignment_changed`, and
one to a whole course (its dates, a re-check of its flags) :func:`course_changed`.

First the stored grades are decided again (:mod:`webhook.storage.stored_grades`: what the
course page reads), so they commit or roll back with the change itself and never disagree
with the grade function. Then each listener a feature registered on the app
(:func:`add_listener`, from its ``init_app``) is called there, in the order registered,
with each student whose grade may have changed: LTI's passback marks its outbox row
(:func:`webhook.lti.passback.mark_changed`), and a grade is never sent for a report that was
not stored. A change to a whole assignment or course tells the listeners only of the
students whose grade did change, and all at once to a listener registered with a ``batch``
form (a rescore changes hundreds of grades: LTI marks every outbox row in one statement,
:func:`webhook.lti.passback.mark_many_changed`); any other is called once per student.

The core imports no feature: ingest and the gradebook know this module only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from flask import Flask, current_app
from sqlalchemy import Connection, select

from submissions.scoring import Decision
from webhook.storage import stored_grades
from webhook.storage.models import Assignment

#: ``app.extensions`` key of the listeners.
EXTENSION = "grader_grade_listeners"

#: ``app.extensions`` key of the listeners' batch forms, by listener.
BATCHES = "grader_grade_batch_listeners"

#: Called with the changing transaction's connection and the student's primary key.
GradeListener = Callable[[Connection, int], None]
#: The same for many students at once (their primary keys, each once).
GradesListener = Callable[[Connection, Collection[int]], None]


def add_listener(
    app: Flask, listener: GradeListener, *, batch: GradesListener | None = None
) -> None:
    """Call ``listener`` whenever a grade of this app's students may have changed (and
    ``batch``, when given, for many students at once: an assignment's or course's change)."""
    listeners: list[GradeListener] = app.extensions.setdefault(EXTENSION, [])
    if listener not in listeners:  # an init_app run twice must not mark twice
        listeners.append(listener)
    if batch is not None:
        app.extensions.setdefault(BATCHES, {})[listener] = batch


def notify_grade_changed(
    connection: Connection, student_pk: int, assignment_id: int | None = None
) -> None:
    """The grade of ``student_pk`` for ``assignment_id`` (default: for any assignment of
    their course) may have changed, in the transaction of ``connection``."""
    stored_grades.refresh_student(
        connection, student_pk, None if assignment_id is None else [assignment_id]
    )
    _tell(connection, [student_pk])


def report_stored(
    connection: Connection, student_pk: int, assignment_id: int | None = None
) -> None:
    """:func:`notify_grade_changed` for ingest: a report of ``student_pk`` was stored or
    flagged in this transaction. The stored grade is only marked stale (one statement;
    :func:`webhook.storage.stored_grades.settle` decides it when the course page next shows
    it), since deciding at each report cost ingest a third of its throughput; the listeners
    are told as for any change."""
    stored_grades.mark_stale(connection, student_pk, assignment_id)
    _tell(connection, [student_pk])


def assignment_changed(
    connection: Connection, assignment_id: int, decided: Mapping[int, Decision] | None = None
) -> list[int]:
    """Every grade of the assignment may have changed (its dates or policies, a rescore),
    in the transaction of ``connection``; the students whose grade did (told to the
    listeners). ``decided``: the decisions just made of the data as it now is, if the
    caller has them (:func:`webhook.storage.stored_grades.refresh_assignment`)."""
    changed = stored_grades.refresh_assignment(connection, assignment_id, decided)
    _tell(connection, changed)
    return changed


def course_changed(connection: Connection, course_id: int) -> list[int]:
    """Every grade of the course may have changed (its dates, a re-check of its flags), in
    the transaction of ``connection``; the students whose grade did (each told once)."""
    changed: dict[int, None] = {}
    assignments = select(Assignment.id).where(Assignment.course_id == course_id)
    for assignment_id in connection.scalars(assignments.order_by(Assignment.id)).all():
        changed.update(dict.fromkeys(stored_grades.refresh_assignment(connection, assignment_id)))
    _tell(connection, list(changed))
    return list(changed)


def _tell(connection: Connection, student_pks: list[int]) -> None:
    """Each listener of the students whose grade may have changed: once with all of them
    when it has a batch form (and they are several), else once per student."""
    if not student_pks:
        return
    batches: dict[GradeListener, GradesListener] = current_app.extensions.get(BATCHES, {})
    for listener in current_app.extensions.get(EXTENSION, ()):
        batch = batches.get(listener)
        if batch is not None and len(student_pks) > 1:  # one: the single form, as ingest
            batch(connection, student_pks)
        else:
            for student_pk in student_pks:
                listener(connection, student_pk)
