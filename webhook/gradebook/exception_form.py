"""The settings page's form for a student's exception: an extension, excused, an override.

``POST /gradebook/<course>/a/<slug>/exceptions`` with ``student`` (the roster's id),
``action`` (``extend``, ``excuse``, ``override`` or ``remove``), its value (``days``,
``grade``; ``kind`` for a removal) and a ``note``. The checks, the stored history and the
LMS update are :mod:`webhook.assignment_exceptions`'s, shared with the command line and the
API, so the form refuses what they refuse, in the same line (shown on the page, nothing
changed). The instructor logged in is who made it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select

from webhook import assignment_exceptions as exceptions
from webhook.access import require_course
from webhook.auth import current_instructor
from webhook.database import get_db, get_session
from webhook.storage.assignments import by_slug
from webhook.storage.db import write_transaction
from webhook.storage.models import EXCEPTION_KINDS, Student

URL = "/gradebook/<course>/a/<slug>/exceptions"
ACTIONS = ("extend", "excuse", "override", "remove")


def submit(course: str, slug: str) -> Any:
    """Make (or end) the exception the form says, then back to the settings page."""
    found = require_course(course)
    assignment = by_slug(get_session(), found.id, slug) or abort(404)
    form = request.form
    action, student_id = form.get("action", ""), form.get("student", "").strip()
    if action not in ACTIONS:
        abort(400, description=f"The action must be one of {', '.join(ACTIONS)}.")
    student_pk = get_session().scalar(
        select(Student.id).where(Student.course_id == found.id, Student.student_id == student_id)
    )
    here = url_for("gradebook.assignment_settings", course=found.slug, slug=assignment.slug)
    back = here + "#exceptions"
    if student_pk is None:
        flash(f"Nothing changed: {student_id[:100]!r} is not on the course's roster.", "error")
        return redirect(back, 303)
    instructor = current_instructor()
    assert instructor is not None  # login_required
    who, note = instructor.username, form.get("note", "")
    try:
        with write_transaction(get_db().engine) as connection:
            if action == "extend":
                exceptions.extend(
                    connection, assignment, student_pk, days=_number(form, "days"),
                    note=note, by=who,
                )  # fmt: skip
            elif action == "excuse":
                exceptions.excuse(connection, assignment, student_pk, note=note, by=who)
            elif action == "override":
                grade = _number(form, "grade")
                exceptions.override(connection, assignment, student_pk, grade, note=note, by=who)
            else:
                kind = form.get("kind", "")
                if kind not in EXCEPTION_KINDS:
                    abort(400, description=f"The kind must be one of {', '.join(EXCEPTION_KINDS)}.")
                if not exceptions.remove(
                    connection, assignment, student_pk, kind, note=note, by=who
                ):
                    raise exceptions.ExceptionRefused(f"{student_id} has no {kind} in force")
    except exceptions.ExceptionRefused as exc:
        flash(f"Nothing changed: {exc}.", "error")
        return redirect(back, 303)
    flash(f"{student_id}: {action} recorded; the grade follows it (and goes to the LMS).", "info")
    return redirect(back, 303)


def _number(form: Any, name: str) -> int:
    value = str(form.get(name, "")).strip()
    if not value.lstrip("-").isdigit() or len(value) > 6:
        raise exceptions.ExceptionRefused(f"{name} must be a whole number")
    return int(value)
