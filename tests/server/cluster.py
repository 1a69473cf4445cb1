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
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devlab.server.services import Gunicorn, free_port

from .test_http import server_env
from .test_slow_clients import DEPLOY, nginx_main, nginx_site, self_signed, stop, wait_ready

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
    # The suite's nginx listens on a port of its own: the Host a node sees keeps it.
    site = site.replace("proxy_set_header Host $host;", "proxy_set_header Host $http_host;")
    return site.replace(single, lines)


@contextlib.contextmanager
def front(root: Path, upstream: list[Gunicorn]) -> Iterator[Front]:
    """nginx (the recipe's) in front of ``upstream``'s nodes."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is not installed: run scripts/setup (apt-packages.txt)", pytrace=False)
    cert, key = self_signed(root)
    tls_port = free_port()
    site = root / "site.conf"
    site.write_text(
        nodes_site([node.port for node in upstream], http_port=free_port(), tls_port=tls_port,
                   cert=cert, key=key)
    )  # fmt: skip
    main = root / "nginx.conf"
    main.write_text(nginx_main(root, site))
    log = root / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [nginx, "-c", str(main), "-p", str(root)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        url = f"https://127.0.0.1:{tls_port}"
        wait_ready(url, process, log, str(cert))
        yield Front(url, str(cert))
    finally:
        stop(process, signal.SIGQUIT)


def posts_served(node: Gunicorn, path: str = "/api/v1/submissions") -> int:
    """How many POSTs to ``path`` the node's access log shows (``accesslog = "-"``)."""
    text = node.log.read_text(errors="replace")
    return len(re.findall(rf'"POST {re.escape(path)} HTTP', text))
