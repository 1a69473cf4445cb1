"""``grade-server instructor``: instructor logins and their API tokens."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webhook.auth import hash_password
from webhook.cli.errors import AlreadyExists, BadInput, database_command
from webhook.cli.lookup import find_instructor
from webhook.database import get_db
from webhook.storage.models import Course, CourseInstructor, Instructor, utcnow
from webhook.storage.tokens import hash_token, new_instructor_token


@click.group("instructor", help="Instructor logins for the gradebook and the API.")
def instructor_group() -> None:
    pass


@database_command(instructor_group, "create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--admin", is_flag=True, help="A server administrator: sees every course.")
def instructor_create(username: str, password_stdin: bool, admin: bool) -> None:
    """Create the instructor login USERNAME (it sees the courses it teaches, or every course
    with --admin)."""
    if not username.strip() or len(username) > 100:
        raise BadInput("the username must be 1-100 characters")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise BadInput("the password must have at least 8 characters")
    with get_db().session() as session:
        session.add(
            Instructor(
                username=username.strip(), password_hash=hash_password(password), is_admin=admin
            )
        )
        try:
            session.commit()
        except IntegrityError:
            raise AlreadyExists(f"instructor {username!r} already exists") from None
    said = "a server administrator: sees every course" if admin else _teaching_hint(username)
    click.echo(f"created instructor {username} ({said})", err=True)


@database_command(instructor_group, "set")
@click.argument("username", metavar="USER")
@click.option(
    "--admin/--no-admin",
    default=None,
    help="A server administrator (sees every course), or an instructor of their courses only.",
)
def instructor_set(username: str, admin: bool | None) -> None:
    """Change the instructor USER: whether they are a server administrator."""
    if admin is None:
        raise click.UsageError("nothing to change: say --admin or --no-admin")
    with get_db().session() as session:
        instructor = find_instructor(session, username)
        instructor.is_admin = admin
        session.commit()
    said = "a server administrator: sees every course" if admin else _teaching_hint(username)
    click.echo(f"instructor {username}: {said}", err=True)


def _teaching_hint(username: str) -> str:
    return (
        f"sees only the courses they teach: `grade-server course add-instructor COURSE {username}`"
    )


@database_command(instructor_group, "token")
@click.argument("username", metavar="USER")
def instructor_token(username: str) -> None:
    """Print a new API token for USER (verified reports); it replaces the old one."""
    token = new_instructor_token()
    with get_db().session() as session:
        instructor = find_instructor(session, username)
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
