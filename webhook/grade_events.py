"""One hook for "a student's grade may have changed": the core tells it, features listen.

Whatever may change a student's course grade (ingest storing a report, an instructor
deciding on a flag; later a rescoring or an override) calls :func:`notify_grade_changed`
inside the transaction that makes the change, on that transaction's connection. Each
listener a feature registered on the app (:func:`add_listener`, from its ``init_app``) is
called there, in the order registered, so that what it writes commits or rolls back with
the change itself: LTI's passback marks its outbox row (:func:`webhook.lti.passback.mark_changed`),
and a grade is never sent for a report that was not stored.

The core imports no feature: ingest and the gradebook know this module only, and an app
without listeners (no feature registered one) pays one dictionary lookup per change.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import Connection

#: ``app.extensions`` key of the listeners.
EXTENSION = "grader_grade_listeners"

#: Called with the changing transaction's connection and the student's primary key.
GradeListener = Callable[[Connection, int], None]


def add_listener(app: Flask, listener: GradeListener) -> None:
    """Call ``listener`` whenever a grade of this app's students may have changed."""
    listeners: list[GradeListener] = app.extensions.setdefault(EXTENSION, [])
    if listener not in listeners:  # an init_app run twice must not mark twice
        listeners.append(listener)


def notify_grade_changed(connection: Connection, student_pk: int) -> None:
    """The grade of ``student_pk`` may have changed, in the transaction of ``connection``."""
    for listener in current_app.extensions.get(EXTENSION, ()):
        listener(connection, student_pk)
