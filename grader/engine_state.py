"""What the engine holds, read once per grading run and shared by all checks.

The queries live here (which containers, images and events to ask the engine for);
:mod:`grader.facts` reads the shapes those answers come in.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import docker
import docker.errors

from grader.facts import ContainerFacts, Event, ImageFacts, parse_event
from grader.imageref import is_repository


def _event_key(raw: dict[str, Any]) -> tuple[Any, ...]:
    return (raw.get("timeNano"), raw.get("Action") or raw.get("status"), parse_event(raw).actor_id)


class EventHistory:
    """The engine's recent events (it keeps only the latest few hundred, in memory)."""

    def __init__(self, events: Iterable[dict[str, Any]]) -> None:
        self.events: list[Event] = [parse_event(e) for e in events]

    @property
    def oldest(self) -> float | None:
        """When the history starts, or None when it is empty."""
        return min((e.time for e in self.events), default=None)

    def of_containers(self) -> dict[str, list[Event]]:
        """Container id -> its events, oldest first."""
        by_container: dict[str, list[Event]] = {}
        for event in self.events:
            if event.type == "container":
                by_container.setdefault(event.actor_id, []).append(event)
        return by_container


class EngineState:
    """What the engine holds, read once per grading run and shared by all checks."""

    def __init__(
        self, client: docker.DockerClient, *, also_seen: Sequence[dict[str, Any]] = ()
    ) -> None:
        self.client = client
        self.also_seen = also_seen

    @cached_property
    def containers(self) -> list[ContainerFacts]:
        return [ContainerFacts(self.client, s) for s in self.client.api.containers(all=True)]

    @cached_property
    def images(self) -> list[ImageFacts]:
        return [ImageFacts(self.client, s) for s in self.client.api.images()]

    @cached_property
    def events(self) -> EventHistory:
        """The engine's whole event history, oldest first, read once.

        The engine keeps only its latest few hundred events; ``also_seen`` are events
        recorded as they happened (``grade --watch``), kept after the engine forgot them.
        """
        # ``until`` to the nanosecond: a whole second would miss what happened just now
        until = f"{time.time():.9f}"
        kept = list(self.client.api.events(since=0, until=until, decode=True))
        known = {_event_key(e) for e in kept}
        missed = [e for e in self.also_seen if _event_key(e) not in known]
        if missed:
            kept = sorted([*missed, *kept], key=lambda e: e.get("timeNano") or 0)
        return EventHistory(kept)

    def container_named(self, name: str) -> ContainerFacts | None:
        """The container with exactly this name (``mydb``, not ``mydb2``)."""
        return next((c for c in self.containers if c.name == name), None)

    def images_of(self, repository: str) -> list[ImageFacts]:
        """Local images tagged in ``repository``: ``mysql`` covers ``mysql:8.0`` and the like."""
        return [image for image in self.images if image.in_repository(repository)]

    def image(self, reference: str) -> ImageFacts | None:
        """The local image a reference names (``mysql``, ``mysql:latest``, a digest or an id)."""
        try:
            image_id = self.client.api.inspect_image(reference)["Id"]
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            if exc.status_code in (400, 404):
                return None
            raise
        return next((image for image in self.images if image.id == image_id), None)

    def containers_of(self, repository: str) -> list[ContainerFacts]:
        """Containers created from an image of ``repository``, by image id or by the name typed.

        Unlike ``--filter ancestor=``, images built on top do not count: a container
        of ``ourfiglet`` is not a container of ``ubuntu``.
        """
        image_ids = {image.id for image in self.images_of(repository)}
        return [
            c
            for c in self.containers
            if c.image_id in image_ids or is_repository(c.image_ref, repository)
        ]
