"""The Docker engine's state, read once per run and turned into named facts.

Checks never dig through raw inspect JSON: they ask ``container.exit_code`` or
``state.images_of("ubuntu")``. Everything is read lazily and cached, so a run
that grades one task asks the engine only what that task needs.

Podman's Docker-compatible API (``podman system service``) answers in Docker's shapes but
for a few quirks, each met here and nowhere else: a one-word command repeated in ``Args``,
its own event actions (``remove``, ``init``, ``cleanup``...) and no ``resize`` events. Image
names (``docker.io/library/ubuntu:latest``, ``localhost/ourfiglet``) are
:mod:`grader.imageref`'s, commits :mod:`grader.engine.commit_detection`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import docker
import docker.errors

from grader.imageref import is_repository

HEX_ID = re.compile(r"^[0-9a-f]{12,64}$")
DOCKER = "docker"
PODMAN = "podman"
#: What Podman puts in every container's environment.
PODMAN_CONTAINER_ENV = "container=podman"


def short(identifier: str) -> str:
    """The 12-character id Docker shows (``sha256:`` prefix dropped)."""
    return identifier.removeprefix("sha256:")[:12]


class ImageFacts:
    """One local image: its names, layers, configuration and history."""

    def __init__(self, client: docker.DockerClient, summary: dict[str, Any]) -> None:
        self._client = client
        self.id: str = summary["Id"]
        self.tags: tuple[str, ...] = tuple(
            t for t in summary.get("RepoTags") or () if t != "<none>:<none>"
        )

    def __repr__(self) -> str:
        return f"<image {self.name}>"

    @property
    def short_id(self) -> str:
        return short(self.id)

    @property
    def name(self) -> str:
        """The first tag, or the short id for an untagged image."""
        return self.tags[0] if self.tags else self.short_id

    def in_repository(self, repository: str) -> bool:
        """True when a tag of this image names ``repository`` (any tag, Podman's localhost/ too)."""
        return any(is_repository(tag, repository) for tag in self.tags)

    @cached_property
    def attrs(self) -> dict[str, Any]:
        return self._client.api.inspect_image(self.id)

    def learn(self, attrs: dict[str, Any]) -> None:
        """Keep an inspect of this image made elsewhere: :attr:`attrs` need not ask again."""
        if attrs.get("Id") == self.id:
            self.__dict__["attrs"] = attrs

    @property
    def config(self) -> dict[str, Any]:
        return self.attrs.get("Config") or {}

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple((self.attrs.get("RootFS") or {}).get("Layers") or ())

    @property
    def cmd(self) -> list[str]:
        return list(self.config.get("Cmd") or [])

    @property
    def entrypoint(self) -> list[str]:
        return list(self.config.get("Entrypoint") or [])

    @property
    def exposed_ports(self) -> set[str]:
        return set(self.config.get("ExposedPorts") or {})

    @property
    def workdir(self) -> str:
        return self.config.get("WorkingDir") or ""

    @cached_property
    def history(self) -> list[dict[str, Any]]:
        """``docker image history``, newest first."""
        return list(self._client.api.history(self.id))

    def built_on(self, base: ImageFacts) -> bool:
        """True when this image's layers start with all of ``base``'s and add at least one."""
        return (
            len(self.layers) > len(base.layers) and self.layers[: len(base.layers)] == base.layers
        )


class ContainerFacts:
    """One container, running or not, as ``docker container inspect`` shows it."""

    def __init__(self, client: docker.DockerClient, summary: dict[str, Any]) -> None:
        self._client = client
        self.id: str = summary["Id"]
        self.name: str = ((summary.get("Names") or ["/"])[0]).lstrip("/")
        self.image_id: str = summary.get("ImageID") or ""
        self._listed_image: str = summary.get("Image") or ""
        self.state_summary: str = summary.get("State") or ""
        self.created: float = float(summary.get("Created") or 0)

    def __repr__(self) -> str:
        return f"<container {self.name} {self.short_id}>"

    @property
    def short_id(self) -> str:
        return short(self.id)

    @property
    def image_ref(self) -> str:
        """The image as the student named it (``mysql:latest``), even once that tag moved on.

        ``docker container ls`` shows the image id instead when the name no longer
        points at the container's image; the container's config still has the name.
        """
        if HEX_ID.match(self._listed_image.removeprefix("sha256:")):
            return self.config.get("Image") or self._listed_image
        return self._listed_image

    @cached_property
    def attrs(self) -> dict[str, Any]:
        return self._client.api.inspect_container(self.id)

    @property
    def config(self) -> dict[str, Any]:
        return self.attrs.get("Config") or {}

    @property
    def state(self) -> dict[str, Any]:
        return self.attrs.get("State") or {}

    @property
    def command(self) -> list[str]:
        """The process the container ran: entrypoint and command, as Docker started it.

        Read from the config, whose ``Entrypoint`` + ``Cmd`` Docker splits into ``Path`` and
        ``Args``: Podman 4 repeats a one-word command there (``hostname`` shows as Path
        ``hostname``, Args ``["hostname"]``, as Docker shows ``hostname hostname``).
        ``Path`` and ``Args`` serve only a config that has neither.
        """
        declared = [*(self.config.get("Entrypoint") or []), *(self.config.get("Cmd") or [])]
        if declared:
            return [str(word) for word in declared]
        return [self.attrs.get("Path") or "", *(self.attrs.get("Args") or [])]

    @property
    def status(self) -> str:
        """``created``, ``running``, ``restarting``, ``paused``, ``exited`` or ``dead``."""
        return self.state.get("Status") or self.state_summary

    @property
    def running(self) -> bool:
        return bool(self.state.get("Running")) and not self.state.get("Restarting")

    @property
    def exit_code(self) -> int | None:
        return None if self.status in ("created", "running") else self.state.get("ExitCode")

    @property
    def error(self) -> str:
        """Why the engine could not start it (a port already in use, say)."""
        return self.state.get("Error") or ""

    @property
    def hostname(self) -> str:
        return self.config.get("Hostname") or ""

    @property
    def env_names(self) -> dict[str, bool]:
        """Each environment variable's name -> whether its value is non-empty.

        Values are deliberately not exposed: the MySQL password must never reach
        a message or a report.
        """
        names: dict[str, bool] = {}
        for entry in self.config.get("Env") or []:
            name, _, value = entry.partition("=")
            names[name] = bool(value)
        return names

    @property
    def engine(self) -> str:
        """``podman`` for a container of Podman (it sets ``container=podman`` in every
        container's environment), else ``docker``."""
        return PODMAN if PODMAN_CONTAINER_ENV in (self.config.get("Env") or []) else DOCKER

    @property
    def attached(self) -> bool:
        """True when any of stdin, stdout, stderr or a terminal was attached at creation.

        Podman's inspect never sets ``AttachStdout`` and the like (only ``OpenStdin`` and
        ``Tty``): there a ``podman run`` without ``--detach`` shows in the container's own
        ``attach`` event, which a detached run never logs.
        """
        config = self.config
        if any(
            config.get(key)
            for key in ("AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin")
        ):
            return True
        return self.engine == PODMAN and "attach" in self._podman_actions

    @cached_property
    def _podman_actions(self) -> frozenset[str]:
        """This container's event actions as Podman logged them (Podman only: Docker has no
        ``stream=false`` and would stream for ever; a past ``until`` stops Podman 4.3's reader
        before it reads)."""
        api = self._client.api
        response = api._get(
            api._url("/events"),
            params={
                "since": "0",
                "stream": "false",
                "filters": json.dumps({"container": [self.id]}),
            },
            stream=True,
        )
        events = (parse_event(raw) for raw in api._stream_helper(response, decode=True))
        return frozenset(event.action for event in events if event.actor_id == self.id)

    @property
    def published_ports(self) -> dict[str, list[str]]:
        """Container port (``80/tcp``) -> host ports: in use while running, else as configured."""
        if self.running:
            bindings = (self.attrs.get("NetworkSettings") or {}).get("Ports") or {}
        else:
            bindings = (self.attrs.get("HostConfig") or {}).get("PortBindings") or {}
        return {
            port: sorted({b.get("HostPort") or "" for b in hosts or []})
            for port, hosts in bindings.items()
        }

    def logs(self) -> str:
        return container_logs(self._client, self.id, tty=bool(self.config.get("Tty")))


def container_logs(client: docker.DockerClient, container_id: str, *, tty: bool) -> str:
    """What the container printed, stdout and stderr, as ``docker logs`` shows it.

    docker-py's ``logs()`` inspects the container first to learn whether it has a
    terminal (its output is then not multiplexed); the caller knows that already.
    """
    api = client.api
    url = api._url("/containers/{0}/logs", container_id)
    response = api._get(url, params={"stdout": 1, "stderr": 1}, stream=False)
    output = api._get_result_tty(False, response, tty)
    return output.decode("utf-8", "replace")


#: Attributes Podman's compat ``/events`` puts on every container event and Docker on none.
PODMAN_EVENT_ATTRIBUTES = frozenset({"podId", "containerExitCode"})
#: Podman's event actions -> Docker's, by event type; Podman's own (``init``, ``cleanup``,
#: ``build``...) are kept as they are.
PODMAN_ACTIONS: dict[str, dict[str, str]] = {
    "container": {
        "remove": "destroy",
        "died": "die",
        "exec": "exec_start",
        "exec_died": "exec_die",
    },
    "image": {"remove": "delete", "loadfromarchive": "load"},
}


@dataclass(frozen=True)
class Event:
    """One entry of the engine's event history, with Docker's action names on every engine.

    ``engine`` says whose history it is (``docker`` or ``podman``): Podman records no
    ``resize``, so there its absence says nothing (:func:`ran_with_terminal`).
    """

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str]
    time: float
    engine: str = DOCKER

    @property
    def records_terminals(self) -> bool:
        """Whether this engine logs a ``resize`` when a terminal attaches (Podman does not)."""
        return self.engine != PODMAN


def parse_event(raw: dict[str, Any]) -> Event:
    """One event as ``/events`` returns it, in any API version's shape, as an :class:`Event`.

    The one place that reads the engine's event JSON: ``Action`` (``status`` before API
    1.22) loses its ``exec_start: ...`` detail, ``Actor`` (``id`` before 1.22) names the
    object, ``timeNano`` is preferred to the whole seconds of ``time``. Podman's events
    (told by the attributes only it sets) get Docker's names for the same actions: its
    ``remove`` of a container is Docker's ``destroy``.
    """
    actor = raw.get("Actor") or {}
    attributes = dict(actor.get("Attributes") or {})
    kind = raw.get("Type") or ""
    action = (raw.get("Action") or raw.get("status") or "").split(":")[0]
    engine = PODMAN if attributes.keys() >= PODMAN_EVENT_ATTRIBUTES else DOCKER
    if engine == PODMAN:
        action = PODMAN_ACTIONS.get(kind, {}).get(action, action)
    return Event(
        type=kind,
        action=action,
        actor_id=actor.get("ID") or raw.get("id") or "",
        attributes=attributes,
        time=(raw.get("timeNano") or 0) / 1e9 or float(raw.get("time") or 0),
        engine=engine,
    )


def ran_with_terminal(events: Sequence[Event]) -> bool | None:
    """Whether one container's events show it ran with a terminal (``-t``).

    Docker logs a ``resize`` when a terminal attaches: True with one, False without. Podman
    logs none with or without a terminal, so its history cannot tell: None.
    """
    if any(event.action == "resize" for event in events):
        return True
    if not all(event.records_terminals for event in events):
        return None
    return False
