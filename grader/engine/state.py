"""What the engine holds, read once per grading run and shared by all checks.

The queries live here (which containers, images and events to ask the engine for);
:mod:`grader.engine.facts` reads the shapes those answers come in. A host that has lived
(hundreds of containers, tags) costs about what a fresh one does: one listing of each
kind is shared, and a container is inspected only when its listing leaves it a
candidate.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import docker
import docker.errors

from grader.engine import background
from grader.engine.facts import ContainerFacts, Event, ImageFacts, parse_event
from grader.engine.remembered import EventMemory, Recalled, event_key
from grader.imageref import is_repository


class EventHistory:
    """The engine's recent events (it keeps only the latest few hundred, in memory), with
    those seen before and remembered (:mod:`grader.engine.remembered`)."""

    def __init__(
        self,
        events: Iterable[dict[str, Any]],
        *,
        remembered: dict[tuple[Any, ...], datetime] | None = None,
    ) -> None:
        self.raw: list[dict[str, Any]] = list(events)
        self.events: list[Event] = [parse_event(e) for e in self.raw]
        self._remembered = remembered or {}

    @property
    def oldest(self) -> float | None:
        """When the engine's own history starts, or None when it is empty."""
        own = zip(self.events, self.raw, strict=True)
        return min((e.time for e, raw in own if not self._recalled(raw)), default=None)

    def of_containers(self, *, remembered: bool = False) -> dict[str, list[Event]]:
        """Container id -> its events, oldest first, as the engine reported them (in this
        run, or to ``grade --watch``); with ``remembered``, those known only from memory.

        The two are never mixed: a remembered container is judged on what was remembered
        of it, not on what the engine says of another object under its id now.
        """
        by_container: dict[str, list[Event]] = {}
        for event, raw in zip(self.events, self.raw, strict=True):
            if event.type == "container" and self._recalled(raw) == remembered:
                by_container.setdefault(event.actor_id, []).append(event)
        return by_container

    def seen_on(self, container_id: str) -> datetime | None:
        """When ``grade`` first saw the remembered events of this container, if any."""
        seen = [
            self._remembered[event_key(raw)]
            for event, raw in zip(self.events, self.raw, strict=True)
            if event.actor_id == container_id and self._recalled(raw)
        ]
        return min(seen, default=None)

    def reported_of(self, container_id: str) -> list[dict[str, Any]]:
        """This container's events as the engine reported them in this run (or to
        ``grade --watch``), raw: what may be remembered."""
        return [
            raw
            for event, raw in zip(self.events, self.raw, strict=True)
            if event.actor_id == container_id and not self._recalled(raw)
        ]

    def _recalled(self, raw: dict[str, Any]) -> bool:
        return event_key(raw) in self._remembered


class EngineState:
    """What the engine holds, read once per grading run and shared by all checks."""

    def __init__(
        self,
        client: docker.DockerClient,
        *,
        also_seen: Sequence[dict[str, Any]] = (),
        memory_folder: Path | None = None,
    ) -> None:
        self.client = client
        self.also_seen = also_seen
        self.memory_folder = memory_folder
        self._listed: dict[str, dict[str, Any]] = {}
        self._named: dict[str, ImageFacts | None] = {}
        self._lock = threading.RLock()

    def list_ahead(self) -> None:
        """Start listing containers and images in the background: the probes that need
        them find them listed, while the events are still being read."""
        background.start(lambda: self.containers, "listing containers")
        background.start(lambda: self.images, "listing images")

    @cached_property
    def containers(self) -> list[ContainerFacts]:
        """Every container, as listed (one call); each is inspected only when asked about."""
        listed = self.client.api.containers(all=True)
        self._listed = {summary["Id"]: summary for summary in listed}
        return [ContainerFacts(self.client, s) for s in listed]

    @cached_property
    def memory(self) -> EventMemory | None:
        """This engine's remembered events, when this run keeps a memory and the engine
        has an id to key it by.

        Podman has none: its compat API answers a new random ``ID`` on every ``/info``
        (seen on 4.3.1), so a memory keyed by it would never be found again and each run
        would only add a file.
        """
        if self.memory_folder is None or self.is_podman:
            return None
        try:
            engine_id = str(self.info.get("ID") or "")
        except docker.errors.DockerException:
            return None
        return EventMemory(self.memory_folder, engine_id) if engine_id else None

    @cached_property
    def info(self) -> dict[str, Any]:
        """The engine's ``/info``: its id, name and version, asked once per run."""
        return dict(self.client.api.info())

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
        recalling = background.start(self._recall, "reading the events remembered")
        kept = self._read_events(until)
        known = {event_key(e) for e in kept}
        missed = [e for e in self.also_seen if event_key(e) not in known]
        known.update(event_key(e) for e in missed)
        remembered: dict[tuple[Any, ...], datetime] = {}
        for record in recalling.result():
            key = event_key(record.event)
            if key not in known and key not in remembered:
                remembered[key] = record.seen
                missed.append(record.event)
        if missed:
            kept = sorted([*missed, *kept], key=lambda e: e.get("timeNano") or 0)
        return EventHistory(kept, remembered=remembered)

    def _read_events(self, until: str) -> list[dict[str, Any]]:
        """Every event the engine still holds, up to ``until``, read as one answer (a line
        of JSON each; docker-py's event stream decodes them one read at a time, at several
        times the CPU).

        Podman 4.3 stops reading its event log at ``until`` wherever that falls, so a past
        ``until`` gives nothing or one event at random; without ``stream`` it returns the
        whole log and ends, which Docker's API would not do.
        """
        params = {"since": "0"}
        params.update({"stream": "false"} if self.is_podman else {"until": until})
        api = self.client.api
        response = api._get(api._url("/events"), params=params, stream=False)
        api._raise_for_status(response)
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    @cached_property
    def is_podman(self) -> bool:
        """True when the engine is Podman's Docker-compatible service (it names itself
        among the version's components)."""
        components = self.client.api.version().get("Components") or []
        return any(c.get("Name") == "Podman Engine" for c in components)

    def _recall(self) -> list[Recalled]:
        """The remembered events (the engine's id first: one more round trip, made while
        the events are read)."""
        return self.memory.recall() if self.memory is not None else []

    def keep_events_of(self, container_id: str) -> None:
        """Remember this container's events as the engine reported them, for when it has
        forgotten them (:mod:`grader.engine.remembered`); never fails the run."""
        if self.memory is not None:
            self.memory.keep(self.events.reported_of(container_id))

    def listed_command(self, container: ContainerFacts) -> list[str] | None:
        """The command as the container listing shows it (one quoted line, split again), or
        None when it does not say: a hint, to be confirmed by inspecting."""
        command = (self._listed.get(container.id) or {}).get("Command")
        if not isinstance(command, str):
            return None
        try:
            return shlex.split(command) or None
        except ValueError:
            return None

    def listed_program(self, container: ContainerFacts) -> str | None:
        """The program of :meth:`listed_command`, without its path (``hostname``)."""
        command = self.listed_command(container)
        return command[0].rsplit("/", 1)[-1] if command else None

    def may_run(self, container: ContainerFacts, program: str) -> bool:
        """False only when the listing shows the container runs another program than
        ``program`` (a path's last part): what to inspect, out of hundreds of containers."""
        listed = self.listed_program(container)
        return listed is None or listed == program.rsplit("/", 1)[-1]

    def container_named(self, name: str) -> ContainerFacts | None:
        """The container with exactly this name (``mydb``, not ``mydb2``)."""
        return next((c for c in self.containers if c.name == name), None)

    def images_of(self, repository: str) -> list[ImageFacts]:
        """Local images tagged in ``repository``: ``mysql`` covers ``mysql:8.0`` and the like."""
        return [image for image in self.images if image.in_repository(repository)]

    def image(self, reference: str) -> ImageFacts | None:
        """The local image a reference names (``mysql``, ``mysql:latest``, a digest or an id),
        asked once per reference; its inspect is kept."""
        with self._lock:
            if reference not in self._named:
                self._named[reference] = self._look_up(reference)
            return self._named[reference]

    def _look_up(self, reference: str) -> ImageFacts | None:
        try:
            attrs = self.client.api.inspect_image(reference)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            if exc.status_code in (400, 404):
                return None
            raise
        image = next((image for image in self.images if image.id == attrs["Id"]), None)
        if image is not None:
            image.learn(attrs)
        return image

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
