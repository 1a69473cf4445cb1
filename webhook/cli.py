"""``grade-server``: the instructor's commands, on Flask's CLI (``grade-server run`` serves).

Errors end with one line on stderr and an exit code of their own:

====  ==========================================================
2     bad usage (Click's own)
3     not found (no such course or instructor)
4     bad input file (roster CSV: unreadable, a field over 128 KiB, a student id with a
      control or invisible character, two ids that look alike; the message names the line)
5     database not ready (run ``grade-server db upgrade``), unreachable or read-only, or at
      a revision this grade-server does not know (written by a newer one)
6     already exists (course, instructor)
7     bad configuration (a ``GRADER_*`` variable; the message names it)
8     bad value of an option (a time that is not ISO 8601, a deadline before the opening,
      an unknown grade policy)
====  ==========================================================
"""

from __future__ import annotations

import csv
import functools
import io
import sys
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from submissions.scoring import GradePolicy
from webhook import crosscheck
from webhook.auth import hash_password
from webhook.database import get_db
from webhook.export import FORMATS, export_grades
from webhook.storage import db as storage
from webhook.storage.models import (
    DEFAULT_GRADE_POLICY,
    GRADE_POLICIES,
    Course,
    CourseInstructor,
    Instructor,
    Student,
    utcnow,
)
from webhook.storage.tokens import hash_token, new_instructor_token, new_token

F = TypeVar("F", bound=Callable[..., Any])

EXIT_NOT_FOUND = 3
EXIT_BAD_INPUT = 4
EXIT_DATABASE = 5
EXIT_EXISTS = 6
EXIT_CONFIG = 7
EXIT_BAD_VALUE = 8


class CliError(click.ClickException):
    """One line on stderr and an exit code of its own (set by each subclass)."""


class NotFound(CliError):
    exit_code = EXIT_NOT_FOUND


class BadInput(CliError):
    exit_code = EXIT_BAD_INPUT


class DatabaseNotReady(CliError):
    exit_code = EXIT_DATABASE


class AlreadyExists(CliError):
    exit_code = EXIT_EXISTS


class BadConfig(CliError):
    exit_code = EXIT_CONFIG


class BadValue(CliError):
    exit_code = EXIT_BAD_VALUE


def database_errors(command: F) -> F:
    """Database failures become one line and exit code 5, never a traceback."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except IntegrityError:
            raise
        except DBAPIError as exc:
            detail = _first_line(exc)
            try:
                migrated = storage.is_migrated(get_db().engine)
            except DBAPIError:  # unreachable: the first error says why
                migrated = True
            if not migrated:
                detail = "the database has no tables yet: run `grade-server db upgrade`"
            raise DatabaseNotReady(f"database not ready: {detail}") from None

    return cast(F, wrapped)


def _first_line(exc: DBAPIError) -> str:
    return (str(exc.orig).strip().splitlines() or [""])[0] if exc.orig else type(exc).__name__


def session_scope() -> Session:
    return get_db().session()


@click.group("db", help="The database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Create the database or bring its schema up to date.")
@with_appcontext
def db_upgrade() -> None:
    from alembic.util.exc import CommandError

    url = current_app.config["DATABASE_URL"]
    try:
        storage.upgrade(url)
    except (OperationalError, ProgrammingError) as exc:
        raise DatabaseNotReady(f"cannot upgrade the database: {_first_line(exc)}") from None
    except DBAPIError as exc:
        raise DatabaseNotReady(f"cannot upgrade the database: {_first_line(exc)}") from None
    except CommandError as exc:  # a revision this version does not ship
        said = (str(exc).strip().splitlines() or [""])[0]
        raise DatabaseNotReady(
            f"cannot upgrade the database: {said} (was it upgraded by a newer grade-server?)"
        ) from None
    click.echo(f"database is up to date ({_safe_url(url)})", err=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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


def _check_dates(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise BadValue(
            f"the course would close ({closes_at:%F %T} UTC) before it opens ({opens_at:%F %T} UTC)"
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


def _when(moment: datetime | None) -> str:
    return "not set" if moment is None else f"{moment:%F %T} UTC"


@course_group.command("create", help="Create the course SLUG (e.g. docker-2026) named NAME.")
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
@with_appcontext
@database_errors
def course_create(
    slug: str,
    name: str,
    opens_at: str | None,
    closes_at: str | None,
    grade_policy: str,
    instructors: tuple[str, ...],
) -> None:
    if not slug.strip() or "/" in slug:
        raise BadInput(f"course slug {slug!r} must be non-empty and without '/'")
    opens, closes = parse_moment(opens_at, "--opens-at"), parse_moment(closes_at, "--closes-at")
    _check_dates(opens, closes)
    policy = parse_policy(grade_policy)
    with session_scope() as session:
        teachers = [_instructor(session, username) for username in dict.fromkeys(instructors)]
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
        session.commit()
    taught = f"; taught by {', '.join(t.username for t in teachers)}" if teachers else ""
    click.echo(
        f"created course {slug} (opens {_when(opens)}, closes {_when(closes)}, "
        f"grade policy {policy}{taught})",
        err=True,
    )


@course_group.command(
    "set",
    help="Change COURSE's name, dates (none clears a date) or grade policy, then re-check it.",
)
@click.argument("course_slug", metavar="COURSE")
@click.option("--name", help="The course's name.")
@click.option("--opens-at", help=f"Reports dated earlier are flagged. {TIME_HELP}, or none.")
@click.option("--closes-at", help=f"The deadline: later reports are late. {TIME_HELP}, or none.")
@click.option("--grade-policy", help=POLICY_HELP + ".")
@with_appcontext
@database_errors
def course_set(
    course_slug: str,
    name: str | None,
    opens_at: str | None,
    closes_at: str | None,
    grade_policy: str | None,
) -> None:
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
        _check_dates(values.get("opens_at", row.opens_at), values.get("closes_at", row.closes_at))
        connection.execute(update(Course).where(Course.id == row.id).values(**values))
        done = crosscheck.recheck_course(connection, row.id)
    opens, closes = values.get("opens_at", row.opens_at), values.get("closes_at", row.closes_at)
    said = f"; grade policy {policy}" if policy is not None else ""
    click.echo(
        f"course {course_slug}: opens {_when(opens)}, closes {_when(closes)}{said}; "
        f"{_rechecked(done)}",
        err=True,
    )


@course_group.command(
    "add-instructor", help="USER teaches COURSE: they may send verified reports for its students."
)
@click.argument("course_slug", metavar="COURSE")
@click.argument("username", metavar="USER")
@with_appcontext
@database_errors
def course_add_instructor(course_slug: str, username: str) -> None:
    with session_scope() as session:
        course, instructor = _course(session, course_slug), _instructor(session, username)
        key = {"course_id": course.id, "instructor_id": instructor.id}
        if session.get(CourseInstructor, key) is not None:
            click.echo(f"{username} already teaches {course_slug}", err=True)
            return
        session.add(CourseInstructor(**key))
        try:
            session.commit()
        except IntegrityError:  # added by another command at the same moment: as wanted
            session.rollback()
    click.echo(f"{username} teaches {course_slug}: their verified reports are taken", err=True)


@course_group.command(
    "remove-instructor", help="USER no longer teaches COURSE (their reports so far are kept)."
)
@click.argument("course_slug", metavar="COURSE")
@click.argument("username", metavar="USER")
@with_appcontext
@database_errors
def course_remove_instructor(course_slug: str, username: str) -> None:
    with session_scope() as session:
        course, instructor = _course(session, course_slug), _instructor(session, username)
        gone = session.execute(
            delete(CourseInstructor).where(
                CourseInstructor.course_id == course.id,
                CourseInstructor.instructor_id == instructor.id,
            )
        )
        session.commit()
    if not getattr(gone, "rowcount", 0):
        click.echo(f"{username} did not teach {course_slug}", err=True)
        return
    click.echo(f"{username} no longer teaches {course_slug}", err=True)


@course_group.command(
    "recheck", help="Run every cross-check of COURSE again (also reads reports stored before them)."
)
@click.argument("course_slug", metavar="COURSE")
@with_appcontext
@database_errors
def course_recheck(course_slug: str) -> None:
    with session_scope() as session:
        course_id = _course(session, course_slug).id
    with storage.write_transaction(get_db().engine) as connection:
        done = crosscheck.recheck_course(connection, course_id)
    click.echo(f"course {course_slug}: {_rechecked(done)}", err=True)


def _rechecked(done: crosscheck.Recheck) -> str:
    said = f"re-checked {done.reports} report(s) in {done.seconds:.2f} s"
    if done.reread:
        said += f" ({done.reread} stored before the integrity checks, read again)"
    return said + f"; {done.open_flags} open flag(s)"


def _course(session: Session, slug: str) -> Course:
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound(f"no course {slug!r} (create it with `grade-server course create`)")
    return course


def _instructor(session: Session, username: str) -> Instructor:
    instructor = session.scalar(select(Instructor).where(Instructor.username == username))
    if instructor is None:
        raise NotFound(
            f"no instructor {username[:100]!r} (create one with `grade-server instructor create`)"
        )
    return instructor


@click.group("roster", help="Students on a course's roster.")
def roster_group() -> None:
    pass


#: Unicode categories never allowed in a student id: control, format (zero-width, RTL
#: marks), surrogate, private use, unassigned, line and paragraph separators.
INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def roster_id(raw: str) -> str:
    """A roster id as stored: NFC, trimmed (the same person typed twice is one id)."""
    return unicodedata.normalize("NFC", raw).strip()


def look_alike_key(student_id: str) -> str:
    """Ids equal under this key look the same to a person (full-width ``Ann``, ``ann``)."""
    return unicodedata.normalize("NFKC", student_id).casefold()


def _invisible(text: str, allowed: set[str] | None = None) -> str | None:
    for char in text:
        if unicodedata.category(char) in (allowed or INVISIBLE):
            return f"U+{ord(char):04X} ({unicodedata.name(char, unicodedata.category(char))})"
    return None


def read_roster(handle: TextIO, source: str) -> Iterator[tuple[str, str, str]]:
    """Rows (student_id, name, email) of a roster CSV with a header naming ``student_id``.

    Ids are NFC and trimmed; an id with a control or invisible character, and two ids
    that look alike, are refused with the line's number (they would be two students).
    """
    reader = csv.DictReader(handle)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise BadInput(f"{source}:1: {_csv_problem(exc)}") from None
    fields = [name.strip().lower() for name in header or ()]
    if "student_id" not in fields:
        raise BadInput(
            f"{source}: the header must name a student_id column (and may name name, email)"
        )
    reader.fieldnames = fields
    seen: dict[str, tuple[str, int]] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadInput(f"{source}:{reader.line_num + 1}: {_csv_problem(exc)}") from None
        line = reader.line_num
        student_id = roster_id(row.get("student_id") or "")
        if not student_id:
            raise BadInput(f"{source}:{line}: empty student_id")
        if len(student_id) > 100 or "/" in student_id:
            raise BadInput(
                f"{source}:{line}: student_id {student_id[:40]!r} is too long or has '/'"
            )
        bad = _invisible(student_id)
        if bad:
            raise BadInput(
                f"{source}:{line}: student_id {student_id[:40]!r} has an invisible or control "
                f"character, {bad}"
            )
        key = look_alike_key(student_id)
        if key in seen:
            first, first_line = seen[key]
            said = "appears twice" if first == student_id else f"looks like {first!r}"
            raise BadInput(f"{source}:{line}: student_id {student_id!r} {said} (line {first_line})")
        seen[key] = (student_id, line)
        name = unicodedata.normalize("NFC", row.get("name") or "").strip()
        email = unicodedata.normalize("NFC", row.get("email") or "").strip()
        for field, value in (("name", name), ("email", email)):
            bad = _invisible(value, {"Cc", "Cs"})
            if bad:
                raise BadInput(f"{source}:{line}: {field} has a control character, {bad}")
        yield student_id, name, email


def _csv_problem(exc: csv.Error) -> str:
    said = str(exc)
    if "field larger than field limit" in said:
        return f"a field is longer than {csv.field_size_limit() // 1024} KiB"
    return f"not a CSV file ({said})"


@roster_group.command(
    "enrol", help="Enrol the students of a roster CSV; print student_id,token for each new one."
)
@click.argument("course_slug", metavar="COURSE")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option(
    "--reset-tokens", is_flag=True, help="Issue new tokens to students already enrolled too."
)
@with_appcontext
@database_errors
def roster_enrol(course_slug: str, roster: Path, reset_tokens: bool) -> None:
    try:
        text = sys.stdin.read() if str(roster) == "-" else roster.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{roster}: cannot read the roster ({exc})") from None
    text = text.removeprefix("\ufeff")  # a spreadsheet's BOM, on stdin as from a file
    rows = list(read_roster(io.StringIO(text), str(roster)))
    issued: list[tuple[str, str]] = []
    kept = 0
    with session_scope() as session:
        course = _course(session, course_slug)
        enrolled = {
            student.student_id: student
            for student in session.scalars(select(Student).where(Student.course_id == course.id))
        }
        alike = {look_alike_key(student_id): student_id for student_id in enrolled}
        for student_id, name, email in rows:
            student = enrolled.get(student_id)
            other = alike.get(look_alike_key(student_id))
            if student is None and other is not None:
                raise BadInput(
                    f"{roster}: student_id {student_id!r} looks like {other!r}, enrolled "
                    f"already in {course_slug} (nothing was enrolled)"
                )
            if student is None:
                token = new_token()
                session.add(
                    Student(
                        course_id=course.id,
                        student_id=student_id,
                        name=name,
                        email=email,
                        token_hash=hash_token(token),
                    )
                )
                issued.append((student_id, token))
                continue
            student.name = name or student.name
            student.email = email or student.email
            if reset_tokens:
                token = new_token()
                student.token_hash = hash_token(token)
                issued.append((student_id, token))
            else:
                kept += 1
        session.commit()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("student_id", "token"))
    out.writerows(issued)
    message = f"{len(issued)} token(s) issued for {course_slug}; hand each to its student"
    message += " (they are not shown again)"
    if kept:
        message += f"; {kept} already enrolled kept their token (--reset-tokens issues new ones)"
    click.echo(message, err=True)


@click.group("instructor", help="Instructor logins for the gradebook and the API.")
def instructor_group() -> None:
    pass


@instructor_group.command("create", help="Create the instructor login USERNAME.")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@database_errors
def instructor_create(username: str, password_stdin: bool) -> None:
    if not username.strip() or len(username) > 100:
        raise BadInput("the username must be 1-100 characters")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise BadInput("the password must have at least 8 characters")
    with session_scope() as session:
        session.add(Instructor(username=username.strip(), password_hash=hash_password(password)))
        try:
            session.commit()
        except IntegrityError:
            raise AlreadyExists(f"instructor {username!r} already exists") from None
    click.echo(f"created instructor {username}", err=True)


@instructor_group.command(
    "token", help="Print a new API token for USER (verified reports); it replaces the old one."
)
@click.argument("username", metavar="USER")
@with_appcontext
@database_errors
def instructor_token(username: str) -> None:
    token = new_instructor_token()
    with session_scope() as session:
        instructor = _instructor(session, username)
        replaced = instructor.token_hash is not None
        instructor.token_hash = hash_token(token)
        instructor.token_issued_at = utcnow()
        courses = session.scalars(
            select(Course.slug)
            .join(CourseInstructor, CourseInstructor.course_id == Course.id)
            .where(CourseInstructor.instructor_id == instructor.id)
            .order_by(Course.slug)
        ).all()
        session.commit()
    click.echo(token)
    said = f"API token of {username} (not shown again; send it as GRADER_TOKEN)"
    if replaced:
        said += "; the old one no longer works"
    if courses:
        said += f"; verified reports are taken for {', '.join(courses)}"
    else:
        said += (
            f"; {username} teaches no course yet: `grade-server course add-instructor "
            f"COURSE {username}`"
        )
    click.echo(said, err=True)


@click.group("grades", help="Grades for the LMS.")
def grades_group() -> None:
    pass


@grades_group.command(
    "export", help="Write COURSE's grades as a CSV that Canvas or Moodle imports."
)
@click.argument("course_slug", metavar="COURSE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="canvas", show_default=True)
@click.option(
    "--grade",
    type=click.Choice(["best", "latest"]),
    default="best",
    show_default=True,
    help="Which submission counts.",
)
@click.option(
    "--include-flagged",
    is_flag=True,
    help="Count reports with open flags too (a rejected report never counts).",
)
@click.option("--include-late", is_flag=True, help="Count reports received after the deadline.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@with_appcontext
@database_errors
def grades_export(
    course_slug: str,
    fmt: str,
    grade: str,
    include_flagged: bool,
    include_late: bool,
    output: Path | None,
) -> None:
    policy = GradePolicy(
        grade="latest" if grade == "latest" else "best",
        include_flagged=include_flagged,
        include_late=include_late,
    )
    with session_scope() as session:
        course = _course(session, course_slug)
        if output is None:
            export_grades(session, course, sys.stdout, fmt=fmt, policy=policy)
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                export_grades(session, course, handle, fmt=fmt, policy=policy)
        except OSError as exc:
            raise BadInput(f"{output}: cannot write ({exc.strerror})") from None
    click.echo(f"wrote {fmt} grades of {course_slug} to {output}", err=True)


def init_app(app: Flask) -> None:
    for group in (db_group, course_group, roster_group, instructor_group, grades_group):
        app.cli.add_command(group)


def _create_app() -> Flask:
    from webhook import create_app
    from webhook.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise BadConfig(f"configuration: {exc}") from None


cli = FlaskGroup(
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="The instructor's server for the Docker lab grader (GRADER_* env variables configure it).",
)


def main() -> None:
    cli.main(prog_name="grade-server")
