"""One hook for "a student's grade may have changed": the core tells it, features listen.

Whatever may change a student's course grade (ingest storing a report, an instructor
deciding on a flag; later a rescoring or an override) calls :func:`notify_grade_changed`
inside the transaction that makes the change, on that transaction's connection. Each
listener a feature registered on the app (:func:`add_listener`, from its ``init_app``) is
called there, in the order registered, so that what it writes commits or rolls back with
the change itself: LTI's passback marks its outbox row (:func:`webhook.lti.passback.mark_changed`),
and a grade is never sent for a report that was not stored.

Many students at once (a rescore changes hundreds of grades in one transaction) say so
with :func:`notify_grades_changed`: a listener registered with a ``batch`` form is called
once with all of them (LTI marks every outbox row in one statement), any other once per
student.

The core imports no feature: ingest and the gradebook know this module only, and an app
without listeners (no feature registered one) pays one dictionary lookup per change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from flask import Flask, current_app
from sqlalchemy import Connection

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
    ``batch``, when given, for many students at once: :func:`notify_grades_changed`)."""
    listeners: list[GradeListener] = app.extensions.setdefault(EXTENSION, [])
    if listener not in listeners:  # an init_app run twice must not mark twice
        listeners.append(listener)
    if batch is not None:
        app.extensions.setdefault(BATCHES, {})[listener] = batch


def notify_grade_changed(connection: Connection, student_pk: int) -> None:
    """The grade of ``student_pk`` may have changed, in the transaction of ``connection``."""
    for listener in current_app.extensions.get(EXTENSION, ()):
        listener(connection, student_pk)


def notify_grades_changed(connection: Connection, student_pks: Collection[int]) -> None:
    """The grades of ``student_pks`` may have changed, in the transaction of ``connection``:
    each listener once with all of them when it has a batch form, else once per student."""
    if not student_pks:
        return
    batches: dict[GradeListener, GradesListener] = current_app.extensions.get(BATCHES, {})
    for listener in current_app.extensions.get(EXTENSION, ()):
        batch = batches.get(listener)
        if batch is not None:
            batch(connection, student_pks)
        else:
            for student_pk in student_pks:
                listener(connection, student_pk)
