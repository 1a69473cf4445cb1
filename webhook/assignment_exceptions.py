"""An instructor's exceptions for one student on one assignment: checked, stored, announced.

The command line (``grade-server assignment extend|excuse|override``) and the API set them
through here, so both refuse the same things with the same one line
(:class:`~submissions.exceptions.ExceptionRefused`) and change nothing then: an empty note,
an extension that is not after the assignment's close (or an assignment without one), an
override below 0 or above the newest rubric's maximum. Each change is stored with who,
when and why (:mod:`webhook.storage.student_exceptions`) and told to
:func:`webhook.grade_events.notify_grade_changed` in the same transaction, so the LMS gets
the new grade (a removed override: the policy's grade again).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from submissions.exceptions import ExceptionRefused, Exceptions, Override, check_override
from webhook.grade_events import notify_grade_changed
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import Assignment
from webhook.storage.student_exceptions import remove_exception, set_exception

#: The longest note kept: a reason, not an essay.
MAX_NOTE = 2000
#: The longest name of who set an exception (``AssignmentException.set_by``).
MAX_BY = 100

__all__ = ["ExceptionRefused", "excuse", "extend", "override", "remove"]


def _note(note: str, what: str) -> str:
    note = note.strip()
    if not note:
        raise ExceptionRefused(f"{what} needs a note saying why (--note)")
    if len(note) > MAX_NOTE:
        raise ExceptionRefused(f"the note is {len(note)} characters; at most {MAX_NOTE}")
    return note


def extend(
    connection: Connection,
    assignment: Assignment,
    student_pk: int,
    *,
    note: str,
    by: str,
    until: datetime | None = None,
    days: int | None = None,
) -> datetime:
    """Give the student until ``until`` (aware) or ``days`` more days; their new due time."""
    note = _note(note, "an extension")
    if (until is None) == (days is None):
        raise ExceptionRefused("an extension is --until WHEN or --days N (one of them)")
    closes = assignment.closes_at
    if closes is None:
        raise ExceptionRefused(
            f"assignment {assignment.slug} has no close to extend: set one first (--closes)"
        )
    if until is not None and until <= closes:
        raise ExceptionRefused(
            f"the extension ({until:%F %T} UTC) is not after the assignment's close"
            f" ({closes:%F %T} UTC)"
        )
    if days is not None and days < 1:
        raise ExceptionRefused(f"an extension of {days} days: give at least 1")
    exceptions = Exceptions(until=until, extra_days=days or 0)  # refuses too many days
    set_exception(
        connection, assignment_id=assignment.id, student_pk=student_pk, kind="extension",
        until=until, extra_days=days or 0, note=note, by=by[:MAX_BY],
    )  # fmt: skip
    notify_grade_changed(connection, student_pk, assignment.id)
    due = exceptions.due(closes)
    assert due is not None  # closes is set
    return due


def excuse(
    connection: Connection, assignment: Assignment, student_pk: int, *, note: str, by: str
) -> None:
    """The assignment does not count for the student: their grade is empty."""
    note = _note(note, "excusing a student")
    set_exception(
        connection, assignment_id=assignment.id, student_pk=student_pk, kind="excused",
        note=note, by=by[:MAX_BY],
    )  # fmt: skip
    notify_grade_changed(connection, student_pk, assignment.id)


def override(
    connection: Connection,
    assignment: Assignment,
    student_pk: int,
    grade: int,
    *,
    note: str,
    by: str,
) -> None:
    """Set the student's grade by hand: it wins over the policy until removed."""
    note = _note(note, "an override")
    maximum = newest_rubric(connection, assignment.id).max_score
    check_override(Override(grade, note), maximum)
    set_exception(
        connection, assignment_id=assignment.id, student_pk=student_pk, kind="override",
        grade=grade, note=note, by=by[:MAX_BY],
    )  # fmt: skip
    notify_grade_changed(connection, student_pk, assignment.id)


def remove(
    connection: Connection,
    assignment: Assignment,
    student_pk: int,
    kind: str,
    *,
    note: str,
    by: str,
) -> bool:
    """End the student's ``kind`` (kept as history); whether there was one in force."""
    note = _note(note, "removing an exception")
    removed = remove_exception(
        connection, assignment_id=assignment.id, student_pk=student_pk, kind=kind,
        note=note, by=by[:MAX_BY],
    )  # fmt: skip
    if removed:
        notify_grade_changed(connection, student_pk, assignment.id)
    return removed
