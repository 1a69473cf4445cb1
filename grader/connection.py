"""Connecting to the student's Docker engine the way the ``docker`` CLI would.

docker-py 7.2 and later honour ``DOCKER_HOST`` and then the CLI's current
context (Docker Desktop, colima, OrbStack), which older releases ignored.
Failures become typed errors with the fix in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlparse

import docker
import docker.errors
import requests.exceptions
from docker.context import ContextAPI

from grader.errors import EnginePermissionDenied, EngineUnreachable

API_TIMEOUT = 30


def _describe(environ: Mapping[str, str]) -> str:
    """Where the Docker CLI would connect, for messages: DOCKER_HOST, the context, the default."""
    if environ.get("DOCKER_HOST"):
        return environ["DOCKER_HOST"]
    try:
        url = ContextAPI.kwargs_from_context(environment=dict(environ)).get("base_url")
    except (docker.errors.DockerException, OSError, ValueError, KeyError):
        url = None
    return str(url or "unix:///var/run/docker.sock").replace("http+docker://", "unix://")


def connect(environ: Mapping[str, str]) -> docker.DockerClient:
    """A client for the engine the student's ``docker`` command talks to, known to answer."""
    try:
        client = docker.DockerClient.from_env(environment=dict(environ), timeout=API_TIMEOUT)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise _engine_error(exc, _describe(environ)) from None
    return client


def _engine_error(exc: BaseException, where: str) -> EngineUnreachable | EnginePermissionDenied:
    text = str(exc)
    if "Permission denied" in text or "PermissionError" in text:
        return EnginePermissionDenied(
            f"permission denied on the Docker engine at {where}: add yourself to the docker "
            "group (sudo usermod -aG docker $USER), log out and in, then run grade again"
        )
    return EngineUnreachable(
        f"cannot reach the Docker engine at {where}: start Docker (Docker Desktop, or "
        "sudo systemctl start docker), check that `docker info` works, then run grade again"
    )


def engine_hostname(client: docker.DockerClient) -> str:
    """The host name where the engine publishes ports (for the HTTP check)."""
    base_url = client.api.base_url
    parsed = urlparse(base_url)
    if parsed.scheme in ("http", "https", "tcp", "ssh") and parsed.hostname not in (
        None,
        "localhost",
    ):
        return parsed.hostname or "127.0.0.1"
    return "127.0.0.1"
