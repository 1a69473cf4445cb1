"""The ``grade-server`` command: Flask's CLI group, built with the app factory it is given."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.cli import FlaskGroup

from webhook.cli.errors import BadConfig
from webhook.config import ConfigError


def server_group(create_app: Callable[[], Flask]) -> FlaskGroup:
    def load_app() -> Flask:
        try:
            return create_app()
        except ConfigError as exc:
            raise BadConfig(f"configuration: {exc}") from None

    return FlaskGroup(
        create_app=load_app,
        add_version_option=False,
        load_dotenv=False,
        set_debug_flag=False,
        help="The instructor's server for the Docker lab grader (GRADER_* env variables "
        "configure it).",
    )
