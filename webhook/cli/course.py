"""``grade-server course``: courses, their dates, grade policy and instructors, and re-checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webhook import crosscheck
from webhook.cli.errors import AlreadyExists, BadInput, BadValue, NotFound, database_command
from webhook.cli.lookup import find_course, find_instructor
from webhook.config import current_rubric
from webhook.database import get_db
from webhook.grade_events import course_changed
from webhook.storage import db as storage
from webhook.storage import stored_grades
from webhook.storage.assignments import add_assignment
from webhook.storage.models import (
    DEFAULT_GRADE_POLICY,
    GRADE_POLICIES,
    Assignment,
    Course,
    CourseInstructor,
)


@click.group("course", help="Courses.")
def course_group() -> None:
    pass


TIME_HELP = "ISO 8601, e.g. 2026-12-01T09:00+01:00 (no zone: UTC)"


def parse_moment(value: str | None, option: str, *, clearable: bool = False) -> datetime | None:
    """An option's time as aware UTC; ``none`` clears it where ``clearable``."""
    if value is None:
        return None
    if clearable and value.strip().lower() in ("", "none"):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        extra = " or none" if clearable else ""
        raise BadValue(f"{option} {value[:40]!r} is not an ISO 8601 time{extra}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_dates(
    opens_at: datetime | None, closes_at: datetime | None, what: str = "course"
) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise BadValue(
            f"the {what} would close ({closes_at:%F %T} UTC) before it opens ({opens_at:%F %T} UTC)"
        )


POLICY_HELP = (
    "Which reports the grade counts: self (the students' own), verified (instructors' runs "
    "on the students' machines) or verified-else-self (verified once a student has one)"
)


def parse_policy(value: str) -> str:
    """A grade policy named on the command line; anything else is one line and exit 8."""
    policy = value.strip().lower()
    if policy not in GRADE_POLICIES:
        raise BadValue(f"--grade-policy {value[:40]!r} must be one of {', '.join(GRADE_POLICIES)}")
    return policy


def _window(opens: datetime | None, closes: datetime | None) -> str:
    """The course's dates as both commands say them."""
    return f"opens {_when(opens)}, closes {_when(closes)}"


def _when(moment: datetime | None) -> str:
    return "not set" if moment is None else f"{moment:%F %T} UTC"


@database_command(course_group, "create")
@click.argument("slug")
@click.argument("name")
@click.option("--opens-at", help=f"Reports dated earlier are flagged. {TIME_HELP}.")
@click.option("--closes-at", help=f"The deadline: later reports are marked late. {TIME_HELP}.")
@click.option(
    "--grade-policy", default=DEFAULT_GRADE_POLICY, show_default=True, help=POLICY_HELP + "."
)
@click.option(
    "--instructor",
    "instructors",
    multiple=True,
    metavar="USER",
    help="An instructor who teaches it (may send verified reports); repeatable.",
)
def course_create(
    slug: str,
    name: str,
    opens_at: str | None,
    closes_at: str | None,
    grade_policy: str,
    instructors: tuple[str, ...],
) -> None:
    """Create the course SLUG (e.g. docker-2026) named NAME, with one assignment of the
    server's rubric's lab (add more with ``grade-server assignment create``)."""
    if not slug.strip() or "/" in slug:
        raise BadInput(f"course slug {slug!r} must be non-empty and without '/'")
    opens, closes = parse_moment(opens_at, "--opens-at"), parse_moment(closes_at, "--closes-at")
    check_dates(opens, closes)
    policy = parse_policy(grade_policy)
    with get_db().session() as session:
        teachers = [find_instructor(session, username) for username in dict.fromkeys(instructors)]
        course = Course(
            slug=slug.strip(),
            name=name.strip() or slug,
            opens_at=opens,
            closes_at=closes,
            grade_policy=policy,
        )
        session.add(course)
        try:
            session.flush()
        except IntegrityError:
            raise AlreadyExists(f"course {slug!r} already exists") from None
        session.add_all(CourseInstructor(course_id=course.id, instructor_id=t.id) for t in teachers)
        assignment = add_assignment(session, course, current_rubric(), created_by="course create")
        session.commit()
    taught = f"; taught by {', '.join(t.username for t in teachers)}" if teachers else ""
    click.echo(
        f"created course {slug} ({_window(opens, closes)}, grade policy {policy}{taught});"
        f" assignment {assignment.slug} of lab {assignment.lab}",
        err=True,
    )


@database_command(course_group, "set")
@click.argument("course_slug", metavar="COURSE")
@click.option("--name", help="The course's name.")
@click.option("--opens-at", help=f"Reports dated earlier are flagged. {TIME_HELP}, or none.")
@click.option("--closes-at", help=f"The deadline: later reports are late. {TIME_HELP}, or none.")
@click.option("--grade-policy", help=POLICY_HELP + ".")
def course_set(
    course_slug: str,
    name: str | None,
    opens_at: str | None,
    closes_at: str | None,
    grade_policy: str | None,
) -> None:
    """Change COURSE's name, dates (none clears a date) or grade policy, then re-check it.

    Dates and grade policy are set for the course (its next assignments' defaults) and for
    every one of its assignments."""
    if name is None and opens_at is None and closes_at is None and grade_policy is None:
        raise BadValue("say what to change: --name, --opens-at, --closes-at or --grade-policy")
    if name is not None and not name.strip():
        raise BadValue("--name must not be empty")
    policy = parse_policy(grade_policy) if grade_policy is not None else None
    opens = parse_moment(opens_at, "--opens-at", clearable=True)
    closes = parse_moment(closes_at, "--closes-at", clearable=True)
    engine = get_db().engine
    with storage.write_transaction(engine) as connection:
        row = connection.execute(
            select(Course.id, Course.opens_at, Course.closes_at).where(Course.slug == course_slug)
        ).first()
        if row is None:
            raise NotFound(
                f"no course {course_slug!r} (create it with `grade-server course create`)"
            )
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name.strip()
        if opens_at is not None:
            values["opens_at"] = opens
        if closes_at is not None:
            values["closes_at"] = closes
        if policy is not None:
            values["grade_policy"] = policy
        check_dates(values.get("opens_at", row.opens_at), values.get("closes_at", row.closes_at))
        stored_grades.settle_stale(connection, course_id=row.id)  # the reports since, first
        connection.execute(update(Course).where(Course.id == row.id).values(**values))
        shared = {key: value for key, value in values.items() if key != "name"}
        if shared:
            connection.execute(
                update(Assignment).where(Assignment.course_id == row.id).values(**shared)
            )
        done = crosscheck.recheck_course(connection, row.id)
        course_changed(connection, row.id)  # new dates, policy or flags
    opens, closes = values.get("opens_at", row.opens_at), values.get("closes_at", row.closes_at)
    said = f"; grade policy {policy}" if policy is not None else ""
    click.echo(
        f"course {course_slug}: {_window(opens, closes)}{said}; {_rechecked(done)}", err=True
    )


def _course_and_instructor(command: Callable[..., Any]) -> Callable[..., Any]:
    """COURSE and USER: the arguments of the commands that say who teaches a course."""
    command = click.argument("username", metavar="USER")(command)
    return click.argument("course_slug", metavar="COURSE")(command)


def _teaching(session: Session, course_slug: str, username: str) -> dict[str, int]:
    """The key of the row that says USER teaches COURSE; each must exist (else NotFound)."""
    course, instructor = find_course(session, course_slug), find_instructor(session, username)
    return {"course_id": course.id, "instructor_id": instructor.id}


@database_command(course_group, "add-instructor")
@_course_and_instructor
def course_add_instructor(course_slug: str, username: str) -> None:
    """USER teaches COURSE: they may send verified reports for its students."""
    with get_db().session() as session:
        key = _teaching(session, course_slug, username)
        if session.get(CourseInstructor, key) is not None:
            click.echo(f"{username} already teaches {course_slug}", err=True)
            return
        session.add(CourseInstructor(**key))
        try:
            session.commit()
        except IntegrityError:  # added by another command at the same moment: as wanted
            session.rollback()
    click.echo(f"{username} teaches {course_slug}: their verified reports are taken", err=True)


@database_command(course_group, "remove-instructor")
@_course_and_instructor
def course_remove_instructor(course_slug: str, username: str) -> None:
    """USER no longer teaches COURSE (their reports so far are kept)."""
    with get_db().session() as session:
        key = _teaching(session, course_slug, username)
        gone = session.execute(delete(CourseInstructor).filter_by(**key))
        session.commit()
    if not getattr(gone, "rowcount", 0):
        click.echo(f"{username} did not teach {course_slug}", err=True)
        return
    click.echo(f"{username} no longer teaches {course_slug}", err=True)


@database_command(course_group, "recheck")
@click.argument("course_slug", metavar="COURSE")
def course_recheck(course_slug: str) -> None:
    """Run every cross-check of COURSE again (also reads reports stored before them)."""
    with get_db().session() as session:
        course_id = find_course(session, course_slug).id
    with storage.write_transaction(get_db().engine) as connection:
        stored_grades.settle_stale(connection, course_id=course_id)  # the reports since, first
        done = crosscheck.recheck_course(connection, course_id)
        course_changed(connection, course_id)  # flags raised or dropped
    click.echo(f"course {course_slug}: {_rechecked(done)}", err=True)


def _rechecked(done: crosscheck.Recheck) -> str:
    said = f"re-checked {done.reports} report(s) in {done.seconds:.2f} s"
    if done.reread:
        said += f" ({done.reread} stored before the integrity checks, read again)"
    return said + f"; {done.open_flags} open flag(s)"
