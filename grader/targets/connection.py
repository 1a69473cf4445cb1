"""Connecting to the Docker engine the ``docker`` CLI would use.

Which engine that is, :mod:`grader.targets.engine_choice` decides (docker-py's own
``from_env`` ignores ``$DOCKER_CONTEXT``); failures become typed errors with the
fix in one line.
"""

from __future__ import annotations

from urllib.parse import urlparse

import docker
import docker.errors
import docker.tls
import requests.exceptions

from grader.errors import EnginePermissionDenied, EngineUnreachable
from grader.i18n import N_
from grader.targets.engine_choice import EngineChoice

API_TIMEOUT = 30


def connect(choice: EngineChoice) -> docker.DockerClient:
    """A client for the engine ``choice`` names (:mod:`.engine_choice`), known to answer."""
    tls: docker.tls.TLSConfig | bool = False
    if choice.tls is not None:
        files = choice.tls
        tls = docker.tls.TLSConfig(
            client_cert=(str(files.cert), str(files.key)) if files.cert and files.key else None,
            ca_cert=str(files.ca) if files.ca else None,
            verify=files.verify,
        )
    try:
        # docker-py asks the engine's /version to agree on an API version: that answer is
        # the proof it can be reached, no ping needed
        client = docker.DockerClient(base_url=choice.host, tls=tls, timeout=API_TIMEOUT)
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise _engine_error(exc, choice.describe()) from None
    return without_environment(client)


def without_environment(client: docker.DockerClient) -> docker.DockerClient:
    """The client, set not to look up proxies and ``.netrc`` for a Unix socket.

    requests reads the proxy variables and ``~/.netrc`` on every call, a fifth of a
    call's CPU; neither can apply to a socket file. A TCP engine keeps them, as the
    ``docker`` CLI honours ``HTTPS_PROXY`` there.
    """
    if client.api.base_url == "http+docker://localhost":  # docker-py's name for a socket file
        client.api.trust_env = False
    return client


def _engine_error(exc: BaseException, where: str) -> EngineUnreachable | EnginePermissionDenied:
    text = str(exc)
    if "Permission denied" in text or "PermissionError" in text:
        said = N_(
            "permission denied on the Docker engine at {where}: add yourself to the docker "
            "group (sudo usermod -aG docker $USER), log out and in, then run grade again"
        )
        return EnginePermissionDenied(said.format(where=where))
    said = N_(
        "cannot reach the Docker engine at {where}: start Docker (Docker Desktop, or "
        "sudo systemctl start docker), check that `docker info` works, then run grade again"
    )
    return EngineUnreachable(said.format(where=where))


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
