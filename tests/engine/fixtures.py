"""Pytest fixtures for real-engine tests: the engine with its stand-ins, and probe containers.

Import them where needed (`pytest_plugins = ["tests.engine.fixtures"]` in a conftest, or
`from tests.engine.fixtures import docker_engine` in a test module).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from devlab.engine import ensure_engine
from devlab.standins import ensure_standins

#: Every container a test starts is named with this prefix, so others can tell it apart.
PROBE_PREFIX = "standin-probe-"

ProbeRunner = Callable[..., Container]


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[docker.DockerClient]:
    """A docker-py client on an engine that answers and holds current stand-in images."""
    ensure_engine()
    client = docker.from_env()
    ensure_standins(client)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def probe(docker_engine: docker.DockerClient) -> Iterator[ProbeRunner]:
    """Start containers named `standin-probe-...`; all are removed (with volumes) afterwards.

    `probe(image, command=None, **create_kwargs)` creates and starts one, then returns it.
    """
    started: list[Container] = []

    def run(image: str, command: Any = None, **kwargs: Any) -> Container:
        kwargs.setdefault("name", f"{PROBE_PREFIX}{uuid.uuid4().hex[:12]}")
        container = docker_engine.containers.create(image, command, **kwargs)
        started.append(container)  # tracked before start, so a failed start is removed too
        container.start()
        container.reload()
        return container

    try:
        yield run
    finally:
        for container in started:
            with contextlib.suppress(NotFound, APIError):
                container.remove(force=True, v=True)
