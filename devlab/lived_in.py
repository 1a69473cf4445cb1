"""A lived-in host: the lab done, then what weeks of a student's Docker leave behind.

Issue 9's host: after the lab and one ``grade``, 300 more short ``docker run``\\ s (of the
lab's own images, the way a student tries things: they stay listed, exited), 100 more
tags and 20 idle containers. Everything added carries :data:`LABEL` or one of
:func:`tag_names`, so :func:`tidy` takes away exactly that and the lab is as it was.
Used by ``bench/grade_speed --lived-in`` and tests/engine/test_lived_in.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker
import docker.errors

LABEL = "org.docker-lab-grader.lived-in"

#: The short runs, in turn: (image, command; None runs the image's own).
RUNS: tuple[tuple[str, list[str] | None], ...] = (
    ("alpine", ["echo", "hello"]),
    ("ubuntu", ["bash", "-c", "true"]),
    ("hello:v0.1", None),
    ("ourfiglet", ["figlet", "hi"]),
    ("alpine", ["ls", "/"]),
)
#: (image, repository) of the extra tags, in turn: the lab's own repositories among them.
TAGGED = (
    ("alpine", "lived-in/alpine"),
    ("ubuntu", "lived-in/ubuntu"),
    ("ourfiglet", "ourfiglet"),
    ("hello:v0.1", "lived-in/hello"),
)


@dataclass(frozen=True)
class LivedIn:
    runs: int = 300
    tags: int = 100
    idle: int = 20


def tag_names(count: int) -> Iterator[tuple[str, str, str]]:
    """(image, repository, tag) of the ``count`` extra tags."""
    for n in range(count):
        image, repository = TAGGED[n % len(TAGGED)]
        yield image, repository, f"lived-in-{n}"


def live_in(client: docker.DockerClient, how: LivedIn = LivedIn()) -> None:
    """Add the short runs, tags and idle containers to a host where the lab is done."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: _short_run(client, *RUNS[n % len(RUNS)]), range(how.runs)))
    for image, repository, tag in tag_names(how.tags):
        client.api.tag(image, repository, tag)
    for n in range(how.idle):
        container = client.api.create_container(
            "alpine", ["sleep", "86400"], name=f"lived-in-idle-{n}", labels={LABEL: "idle"}
        )
        client.api.start(container["Id"])


def _short_run(client: docker.DockerClient, image: str, command: list[str] | None) -> None:
    container = client.api.create_container(image, command, labels={LABEL: "run"})
    client.api.start(container["Id"])
    client.api.wait(container["Id"], timeout=120)


def tidy(client: docker.DockerClient, how: LivedIn = LivedIn()) -> None:
    """Take away everything :func:`live_in` added; what the lab made stays."""
    for container in client.api.containers(all=True, filters={"label": LABEL}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(container["Id"], force=True, v=True)
    for _, repository, tag in tag_names(how.tags):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_image(f"{repository}:{tag}", noprune=True)
