"""``grade-server``'s errors: one line on stderr and an exit code of their own.

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

Every command group imports these, a feature's own commands (``grade-server lti``) too;
this module imports no command.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError, IntegrityError

from webhook.database import get_db
from webhook.storage import db as storage

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
            detail = first_line(exc)
            try:
                migrated = storage.is_migrated(get_db().engine)
            except DBAPIError:  # unreachable: the first error says why
                migrated = True
            if not migrated:
                detail = "the database has no tables yet: run `grade-server db upgrade`"
            raise DatabaseNotReady(f"database not ready: {detail}") from None

    return cast(F, wrapped)


def database_command(
    group: click.Group, name: str
) -> Callable[[Callable[..., Any]], click.Command]:
    """``@group.command(name)`` for a command that uses the app and its database: run in the
    app's context, with :func:`database_errors`. Options and arguments go below it, as below
    ``@group.command``; its docstring is its help, as Click takes it."""

    def register(function: Callable[..., Any]) -> click.Command:
        return group.command(name)(with_appcontext(database_errors(function)))

    return register


def first_line(exc: DBAPIError) -> str:
    return (str(exc.orig).strip().splitlines() or [""])[0] if exc.orig else type(exc).__name__
