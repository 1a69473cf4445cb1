"""``grade-server assignment extend|excuse|override``: one student's exceptions to an assignment.

Each takes the student's roster id and a required ``--note``; who made it is ``--by`` or
the operating system's user. They are kept with who, when and why, and undone with
``--remove`` (``excuse --undo``), which keeps the history too (``assignment show`` lists
it). A changed grade goes to the LMS like any other. Errors: an unknown course, assignment
or student exits 3; an empty note, an extension not after the close, an override below 0
or above the maximum exits 8; nothing is changed then.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select

from webhook import assignment_exceptions as exceptions
from webhook.cli.assignment import assignment_group, find_assignment
from webhook.cli.course import TIME_HELP, parse_moment
from webhook.cli.errors import BadValue, NotFound, database_command
from webhook.cli.lookup import find_course
from webhook.database import get_db
from webhook.storage.db import write_transaction
from webhook.storage.models import Assignment, Student


def actor(by: str | None) -> str:
    """Who makes the change: ``--by``, else the operating system's user (as flag decisions
    name the instructor who made them)."""
    if by is not None and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this environment
        return "grade-server"


def _student_arguments(command: Callable[..., Any]) -> Callable[..., Any]:
    """COURSE SLUG STUDENT, ``--note`` and ``--by``: what every exception command takes."""
    command = click.option("--by", help="Who makes it (default: your user name on this machine).")(
        command
    )
    command = click.option(
        "--note", required=True, help="Why: kept with it, shown to instructors."
    )(command)
    command = click.argument("student_id", metavar="STUDENT")(command)
    command = click.argument("slug")(command)
    return click.argument("course_slug", metavar="COURSE")(command)


def _find(course_slug: str, slug: str, student_id: str) -> tuple[Assignment, int]:
    """The assignment and the student's key; either missing is one line and exit 3."""
    with get_db().session() as session:
        assignment = find_assignment(session, find_course(session, course_slug), slug)
        student_pk = session.scalar(
            select(Student.id).where(
                Student.course_id == assignment.course_id, Student.student_id == student_id
            )
        )
        session.expunge(assignment)
    if student_pk is None:
        raise NotFound(
            f"no student {student_id[:100]!r} on the roster of {course_slug}"
            f" (see `grade-server roster list {course_slug}`)"
        )
    return assignment, student_pk


def _remove(assignment: Assignment, student_pk: int, kind: str, note: str, by: str) -> bool:
    with write_transaction(get_db().engine) as connection:
        try:
            return exceptions.remove(connection, assignment, student_pk, kind, note=note, by=by)
        except exceptions.ExceptionRefused as exc:
            raise BadValue(str(exc)) from None


@database_command(assignment_group, "extend")
@_student_arguments
@click.option("--until", help=f"The student's own close. {TIME_HELP}.")
@click.option("--days", type=int, help="Days added to the assignment's close (follows it).")
@click.option("--remove", is_flag=True, help="End the student's extension.")
def assignment_extend(
    course_slug: str,
    slug: str,
    student_id: str,
    note: str,
    by: str | None,
    until: str | None,
    days: int | None,
    remove: bool,
) -> None:
    """Give STUDENT a later close on the assignment SLUG: --until WHEN or --days N."""
    assignment, student_pk = _find(course_slug, slug, student_id)
    who = f"{course_slug}/{slug}: {student_id}"
    if remove:
        if until is not None or days is not None:
            raise BadValue("--remove takes neither --until nor --days")
        done = _remove(assignment, student_pk, "extension", note, actor(by))
        click.echo(f"{who}: {'extension removed' if done else 'had no extension'}", err=True)
        return
    moment = parse_moment(until, "--until")
    with write_transaction(get_db().engine) as connection:
        try:
            due = exceptions.extend(
                connection, assignment, student_pk, note=note, by=actor(by), until=moment,
                days=days,
            )  # fmt: skip
        except exceptions.ExceptionRefused as exc:
            raise BadValue(str(exc)) from None
    click.echo(f"{who}: due {due:%F %T} UTC", err=True)


@database_command(assignment_group, "excuse")
@_student_arguments
@click.option("--undo", is_flag=True, help="The assignment counts for the student again.")
def assignment_excuse(
    course_slug: str, slug: str, student_id: str, note: str, by: str | None, undo: bool
) -> None:
    """Excuse STUDENT from the assignment SLUG: it does not count for them (empty grade)."""
    assignment, student_pk = _find(course_slug, slug, student_id)
    who = f"{course_slug}/{slug}: {student_id}"
    if undo:
        done = _remove(assignment, student_pk, "excused", note, actor(by))
        click.echo(f"{who}: {'no longer excused' if done else 'was not excused'}", err=True)
        return
    with write_transaction(get_db().engine) as connection:
        try:
            exceptions.excuse(connection, assignment, student_pk, note=note, by=actor(by))
        except exceptions.ExceptionRefused as exc:
            raise BadValue(str(exc)) from None
    click.echo(f"{who}: excused", err=True)


@database_command(assignment_group, "override")
@_student_arguments
@click.argument("grade", type=int, required=False)
@click.option("--remove", is_flag=True, help="Remove the override: the policy's grade again.")
def assignment_override(
    course_slug: str,
    slug: str,
    student_id: str,
    note: str,
    by: str | None,
    grade: int | None,
    remove: bool,
) -> None:
    """Set STUDENT's GRADE for the assignment SLUG by hand; it wins until --remove."""
    if remove == (grade is not None):
        raise BadValue("give a GRADE, or --remove (not both)")
    assignment, student_pk = _find(course_slug, slug, student_id)
    who = f"{course_slug}/{slug}: {student_id}"
    if remove:
        done = _remove(assignment, student_pk, "override", note, actor(by))
        said = "override removed (the policy's grade again)" if done else "had no override"
        click.echo(f"{who}: {said}", err=True)
        return
    assert grade is not None
    with write_transaction(get_db().engine) as connection:
        try:
            exceptions.override(connection, assignment, student_pk, grade, note=note, by=actor(by))
        except exceptions.ExceptionRefused as exc:
            raise BadValue(str(exc)) from None
    click.echo(f"{who}: grade {grade} (override)", err=True)
