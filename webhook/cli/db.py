"""``grade-server db``: the database schema."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from webhook.cli.errors import DatabaseNotReady, first_line
from webhook.config import current_rubric
from webhook.storage import db as storage


@click.group("db", help="The database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Create the database or bring its schema up to date.")
@with_appcontext
def db_upgrade() -> None:
    from alembic.util.exc import CommandError

    url = current_app.config["DATABASE_URL"]
    try:
        storage.upgrade(url, rubric_json=current_rubric().to_json())
    except (OperationalError, ProgrammingError) as exc:
        raise DatabaseNotReady(f"cannot upgrade the database: {first_line(exc)}") from None
    except DBAPIError as exc:
        raise DatabaseNotReady(f"cannot upgrade the database: {first_line(exc)}") from None
    except CommandError as exc:  # a revision this version does not ship
        said = (str(exc).strip().splitlines() or [""])[0]
        raise DatabaseNotReady(
            f"cannot upgrade the database: {said} (was it upgraded by a newer grade-server?)"
        ) from None
    click.echo(f"database is up to date ({_safe_url(url)})", err=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
