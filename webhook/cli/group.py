"""The ``grade-server`` command: the tool's own options, then the commands the features register.

Flask's :class:`~flask.cli.FlaskGroup` brings its plumbing to every tool built on it: the
``-A/--app``, ``-e/--env-file`` ("python-dotenv must be installed") and ``--debug`` options
shown first in ``--help``, ``FLASK_*`` variables for every option, ``.env`` files, and the
``shell`` and ``routes`` commands. None of it configures this server (``GRADER_*``
variables do). :class:`ServerGroup` is a plain Click group that does the part it needs: it
builds the app with the factory it is given (the console script passes
:func:`webhook.create_app`), lists the commands on ``app.cli`` and runs them in an app
context, with Flask's :class:`~flask.cli.ScriptInfo` as the context's object so that
``with_appcontext`` and ``pass_script_info`` find the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from webhook.cli.errors import BadConfig, CliError
from webhook.config import ConfigError

HELP = "The instructor's server for the Docker lab grader (GRADER_* env variables configure it)."


class ServerGroup(click.Group):
    """Its own commands (``run``) and the app's (``app.cli``), the app built once, lazily."""

    def __init__(self, create_app: Callable[[], Flask], **kwargs: Any) -> None:
        kwargs.setdefault("help", HELP)
        super().__init__(**kwargs)
        self.create_app = create_app

    def load_app(self) -> Flask:
        """The app; a bad ``GRADER_*`` variable is one line and exit 7."""
        try:
            return self.create_app()
        except ConfigError as exc:
            raise BadConfig(f"configuration: {exc}") from None

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        extra.setdefault("obj", ScriptInfo(create_app=self.load_app, set_debug_flag=False))
        return super().make_context(info_name, args, parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        try:
            names.update(ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx))
        except CliError as exc:  # --help still lists the tool's own, and says why not the rest
            click.echo(f"Error: {exc.format_message()}", err=True)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        app = ctx.ensure_object(ScriptInfo).load_app()
        if not current_app or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, cmd_name)
