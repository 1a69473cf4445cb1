"""``grade-server run``: the embedded server, which slow clients cannot take down.

Flask's own ``run`` is a development server, and gunicorn's sync workers (the
production default behind nginx) are held by a client that sends its headers or its
body at a byte a second: four such sockets stop a four-worker server (issue 11). This
command serves the app with waitress instead: one thread reads every connection
without blocking and buffers each request whole (bounded in size) before one of a few
worker threads runs it, so a slow client costs a socket and a buffer, never a worker.
Idle connections are closed after ``CHANNEL_TIMEOUT`` seconds, and at most
``CONNECTION_LIMIT`` are held at once.

For a course's server facing the internet, ``deploy/`` has the production recipe:
nginx (TLS, header and body timeouts, the body size limit) in front of gunicorn.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info

#: Seconds a connection may stay silent (mid-request or between requests) before it is closed.
CHANNEL_TIMEOUT = 30
#: Connections held at once; more wait in the kernel's backlog.
CONNECTION_LIMIT = 1000
#: The request line and headers of one request, at most.
MAX_HEADER_BYTES = 32 * 1024


def waitress_settings(app: Flask, *, host: str, port: int, threads: int) -> dict[str, Any]:
    """How waitress serves ``app``: bounded buffers and timeouts, nothing unbounded.

    Bodies up to twice the report limit are buffered, so that the app itself answers
    an over-limit report (413 with its JSON reason); a larger one waitress refuses.
    """
    return {
        "host": host,
        "port": port,
        "threads": threads,
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": CHANNEL_TIMEOUT,
        "cleanup_interval": 5,
        "max_request_header_size": MAX_HEADER_BYTES,
        "max_request_body_size": 2 * int(app.config["MAX_REPORT_BYTES"]),
        "asyncore_use_poll": True,  # select() stops at 1,024 descriptors
        "ident": "grade-server",
        "expose_tracebacks": False,
    }


@click.command("run", help="Serve the app (waitress: safe with slow clients, no proxy needed).")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads that run requests (each request arrives whole).",
)
@pass_script_info
def run_command(info: ScriptInfo, host: str, port: int, threads: int) -> None:
    from waitress import serve

    app = info.load_app()
    click.echo(f"grade-server: serving on http://{host}:{port} (waitress, {threads} threads)")
    serve(app, **waitress_settings(app, host=host, port=port, threads=threads))
