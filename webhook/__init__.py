"""The instructor's server: collects students' JUnit reports into a gradebook.

``webhook:create_app()`` is the app factory gunicorn is pointed at
(``gunicorn 'webhook:create_app()'``); ``grade-server`` is its CLI.

Importing this package needs none of the server's packages (Flask, SQLAlchemy...):
they are the ``server`` extra, and ``grade-server``'s entry point must be able to say
so in one line on a student's install. Only :func:`create_app` imports them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(
    test_config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the app: defaults → instance ``config.py`` → ``GRADER_*`` environment → test_config.

    The instance folder (the default SQLite file, the kept session key, an optional
    ``config.py``) is Flask's, or ``GRADER_INSTANCE_PATH``.

    Never touches the schema: run ``grade-server db upgrade`` once before serving.
    """
    from flask import Flask

    from webhook.config import ConfigError, for_gunicorn, load_config

    environ = os.environ if environ is None else environ
    instance = environ.get("GRADER_INSTANCE_PATH") or None
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance) if instance else None,
        instance_relative_config=True,
    )
    try:
        load_config(app, test_config=test_config, environ=environ)
    except ConfigError as exc:  # one line under a bare gunicorn too, not a worker traceback
        raise for_gunicorn(exc) from None

    from webhook import (
        api,
        api_exceptions,
        auth,
        board,
        cli,
        database,
        gradebook,
        health,
        i18n,
        lti,
    )

    i18n.init_app(app)  # students' pages and reasons in their language (issue 24)
    database.init_app(app)
    auth.init_app(app)
    health.init_app(app)
    api.init_app(app)
    api_exceptions.init_app(app)  # per-student exceptions, JSON
    lti.init_app(app)  # LTI 1.3: its routes and `grade-server lti`
    cli.init_app(app)
    gradebook.init_app(app)
    board.init_app(app)  # the live class board: progress in, the board out (issue 22)
    return app
