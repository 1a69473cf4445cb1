"""gunicorn's settings for grade-server behind nginx: /etc/grade-server/gunicorn.conf.py.

``gunicorn -c /etc/grade-server/gunicorn.conf.py`` (deploy/systemd/grade-server.service).
Sync workers are right here only because nginx (deploy/nginx/grade-server.conf) buffers
every request whole before passing it on: on their own, a client that sends slowly holds
one for up to ``timeout`` seconds. Without nginx, serve with ``grade-server run``.
"""

import multiprocessing
import os

wsgi_app = "webhook:create_app()"
# The socket systemd opens (deploy/systemd/grade-server.socket) is used when gunicorn is
# started by it; this bind is for running gunicorn by hand.
bind = ["unix:/run/grade-server.sock"]
# Two per core: a report costs about 1 ms of CPU, and SQLite's writers queue on a lock.
workers = 2 * multiprocessing.cpu_count()
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 2
# A worker is replaced now and then (a leak, if any, stays bounded).
max_requests = 10_000
max_requests_jitter = 1_000
# Request line and headers: the same bounds as nginx's large_client_header_buffers.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# nginx is the only client; X-Forwarded-Proto is trusted from it alone: nginx on this machine,
# or for an app node of several (docs/server.md, "Several app nodes") nginx's address, given
# as FORWARDED_ALLOW_IPS in /etc/grade-server/env.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
accesslog = "-"
errorlog = "-"


def on_starting(server: object) -> None:
    """Build the app once in the master before any worker: a bad setting or an instance
    file the server's user cannot read is one line and exit status 1, not a traceback
    from every worker that fails to boot."""
    from webhook import create_app
    from webhook.config import ConfigError

    try:
        create_app()
    except ConfigError as exc:
        raise SystemExit(f"grade-server: configuration: {exc.args[0]}") from None
