"""``grade-server``'s entry point: the server is an extra of the package, so say what to install.

A student's ``pip install`` brings only what ``grade`` needs; the server's packages
come with the ``server`` extra. Without them ``grade-server`` answers in one line
(exit 2) instead of an ImportError's traceback.

With them, it builds the command (:class:`webhook.cli.group.ServerGroup`) with the app
factory, :func:`webhook.create_app`, and adds ``grade-server run``: :mod:`webhook.serve`'s
(waitress), not Flask's development server.
"""

from __future__ import annotations

import importlib.util
import sys

#: What the server imports that a student's install does not have.
SERVER_PACKAGES = ("flask", "sqlalchemy", "alembic", "standardwebhooks", "waitress")
EXIT_NOT_INSTALLED = 2


def missing_packages() -> list[str]:
    return [name for name in SERVER_PACKAGES if importlib.util.find_spec(name) is None]


def main() -> None:
    missing = missing_packages()
    if missing:
        print(
            f"grade-server: the server's packages are not installed ({', '.join(missing)}): "
            "pip install 'docker-lab-grader[server]' (from a source tree: pip install '.[server]')",
            file=sys.stderr,
        )
        sys.exit(EXIT_NOT_INSTALLED)
    from webhook import create_app
    from webhook.cli.group import ServerGroup
    from webhook.serve import run_command

    cli = ServerGroup(create_app)
    cli.add_command(run_command)  # in place of Flask's development server
    cli.main(prog_name="grade-server")
