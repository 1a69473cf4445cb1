"""Several app nodes on one PostgreSQL behind the recipe's nginx, for the ``multinode`` tier.

Each node is gunicorn started with ``deploy/gunicorn.conf.py`` and an instance folder of its
own (its session key file, hashing slots and SQLite owner file would live there), all with
one ``GRADER_SECRET_KEY`` and one ``GRADER_DATABASE_URL``, as docs/server.md's multi-node
recipe says. nginx is ``deploy/nginx/grade-server.conf`` with its upstream's commented
multi-node lines put in place of the socket, on the suite's ports and certificate.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from devlab.server.services import Gunicorn

from .test_http import server_env
from .test_slow_clients import DEPLOY, nginx_serving, nginx_site

#: The recipe's commented line for one more node (its address is a placeholder).
NODE_LINE = re.compile(r"(?m)^\s*#(server 10\.0\.0\.\d+:8000 [^;\n]*;)$")


@dataclass(frozen=True)
class Front:
    """nginx in front of the nodes: its HTTPS URL and the certificate to trust."""

    url: str
    cert: str


def node_env(url: str, instance: Path, **extra: str) -> dict[str, str]:
    """A node's settings: shared database and secret key, its own instance folder."""
    return {
        **server_env(url, **extra),
        "GRADER_INSTANCE_PATH": str(instance),
        "GRADER_TRUSTED_PROXIES": "1",  # as deploy/systemd/grade-server.service sets it
    }


@contextlib.contextmanager
def nodes(root: Path, url: str, count: int = 2, **extra: str) -> Iterator[list[Gunicorn]]:
    """``count`` nodes (two workers each) on ``url``, each with its own instance folder."""
    config = ("--config", str(DEPLOY / "gunicorn.conf.py"))
    with contextlib.ExitStack() as stack:
        started = []
        for n in range(count):
            name = f"node-{'abcdefgh'[n]}"
            env = node_env(url, root / name / "instance", **extra)
            node = Gunicorn(env, workers=2, log=root / name / "gunicorn.log", extra=config)
            started.append(stack.enter_context(node))
        yield started


def nodes_site(ports: list[int], *, http_port: int, tls_port: int, cert: Path, key: Path) -> str:
    """The recipe's site with its upstream holding one server line per node (the commented
    multi-node form), the single node's socket line gone."""
    site = nginx_site(upstream=0, http_port=http_port, tls_port=tls_port, cert=cert, key=key)
    single = "    server 127.0.0.1:0 fail_timeout=0;\n"
    assert site.count(single) == 1, "the recipe's upstream no longer has its one socket line"
    template = NODE_LINE.findall(site)
    assert template, "deploy/nginx/grade-server.conf no longer shows the multi-node form"
    lines = "".join(
        "    " + re.sub(r"10\.0\.0\.\d+:8000", f"127.0.0.1:{port}", template[0]) + "\n"
        for port in ports
    )
    return site.replace(single, lines)


@contextlib.contextmanager
def front(root: Path, upstream: list[Gunicorn]) -> Iterator[Front]:
    """nginx (the recipe's) in front of ``upstream``'s nodes."""
    site = partial(nodes_site, [node.port for node in upstream])
    with nginx_serving(root, site) as served:
        yield Front(served.url, str(served.cert))


def posts_served(node: Gunicorn, path: str = "/api/v1/submissions") -> int:
    """How many POSTs to ``path`` the node's access log shows (``accesslog = "-"``)."""
    text = node.log.read_text(errors="replace")
    return len(re.findall(rf'"POST {re.escape(path)} HTTP', text))
