"""A lab's own objects on an engine and a disk: found by their declared names, removed.

Only what :class:`~grader.labtools.declared.Objects` names is ever found: a container the
student made otherwise, or an image of their own, is never listed, so never removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import docker
import docker.errors

from grader.imageref import effective_tag, is_repository, parse_image_ref
from grader.labtools.declared import Objects, expand
from grader.labtools.disks import Disk


@dataclass
class Found:
    """The lab's objects present now, each as the line that lists it."""

    containers: dict[str, str] = field(default_factory=dict)  # id -> "mydb (mysql:latest)"
    images: list[str] = field(default_factory=list)  # tags
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    files: list[PurePosixPath] = field(default_factory=list)
    #: Declared names that could not be looked for: "$DOCKERID/linux_tweet_app ($DOCKERID unset)"
    unknown: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.containers or self.images or self.volumes or self.networks or self.files)

    def lines(self) -> list[str]:
        """One line per object, as ``finish`` lists them."""
        return [
            *(f"container {what}" for what in self.containers.values()),
            *(f"image {tag}" for tag in self.images),
            *(f"volume {name}" for name in self.volumes),
            *(f"network {name}" for name in self.networks),
            *(f"file {path}" for path in self.files),
        ]


def _names(declared: tuple[str, ...], variables: Mapping[str, str], found: Found) -> list[str]:
    names = []
    for name in declared:
        expanded = expand(name, variables)
        if expanded is None:
            found.unknown.append(name)
        else:
            names.append(expanded)
    return names


def image_matches(tag: str, declared: str) -> bool:
    """Whether the engine's ``tag`` is the declared image: a name without a tag means any of
    its tags, Podman's ``localhost/`` spelling included; one with a tag that tag only."""
    try:
        wanted = parse_image_ref(declared)
        have = parse_image_ref(tag)
    except ValueError:
        return False
    if not is_repository(have, wanted.name):
        return False
    return wanted.tag is None or effective_tag(have) == effective_tag(wanted)


def find(
    client: docker.DockerClient,
    objects: Objects,
    *,
    variables: Mapping[str, str],
    disk: Disk | None,
) -> Found:
    """The lab's objects present on the engine (and, with ``disk``, the files there).

    A declared file that ``disk`` keeps (the home itself, the reports, the outbox) is
    never listed: nothing stored is lost to a careless declaration.
    """
    found = Found()
    images = _names(objects.images, variables, found)
    lab_image_ids = set()
    for image in client.api.images():
        tags = [tag for tag in image.get("RepoTags") or [] if tag != "<none>:<none>"]
        mine = [tag for tag in tags if any(image_matches(tag, want) for want in images)]
        found.images.extend(mine)
        if mine and len(mine) == len(tags):  # an image kept by another tag is not the lab's
            lab_image_ids.add(image["Id"])
    names = set(_names(objects.containers, variables, found))
    runs = objects.runs
    for container in client.api.containers(all=True):
        name = (container.get("Names") or ["/"])[0].lstrip("/")
        if (
            name in names
            or container.get("ImageID") in lab_image_ids
            or _is_run(container, runs)
            or any(image_matches(container.get("Image", ""), want) for want in images)
        ):
            found.containers[container["Id"]] = f"{name} ({container.get('Image', '?')})"
    wanted_volumes = set(_names(objects.volumes, variables, found))
    for volume in client.api.volumes().get("Volumes") or []:
        if volume["Name"] in wanted_volumes:
            found.volumes.append(volume["Name"])
    wanted_networks = set(_names(objects.networks, variables, found))
    found.networks = sorted(
        n["Name"] for n in client.api.networks() if n["Name"] in wanted_networks
    )
    if disk is not None:
        for name in _names(objects.files, variables, found):
            path = disk.path(name)
            if disk.kept(path):
                found.unknown.append(f"{name} (holds your home, reports or outbox: kept)")
            elif disk.present(path):
                found.files.append(path)
    return found


def _is_run(container: Mapping[str, Any], runs: tuple[tuple[str, str], ...]) -> bool:
    """A container made from ``image`` (as typed, or as Podman spells it:
    ``docker.io/library/alpine:latest``) with exactly ``command`` (step 1.1's)."""
    image = str(container.get("Image", ""))
    command = str(container.get("Command", ""))
    return any(command == cmd and image_matches(image, want) for want, cmd in runs)


def remove(client: docker.DockerClient, found: Found, disk: Disk | None) -> list[str]:
    """Remove what ``found`` lists (containers first, with their anonymous volumes; the
    files through ``disk``, where ``find`` found them); the lines of what could not be
    removed, each with why."""
    problems: list[str] = []

    def attempt(what: str, action: Any, *args: Any, **kwargs: Any) -> None:
        try:
            action(*args, **kwargs)
        except docker.errors.NotFound:
            pass  # gone already: what was wanted
        except docker.errors.APIError as exc:
            problems.append(f"{what}: {exc.explanation or exc}")

    for container_id, what in found.containers.items():
        attempt(f"container {what}", client.api.remove_container, container_id, force=True, v=True)
    for tag in found.images:
        attempt(f"image {tag}", client.api.remove_image, tag)
    for name in found.volumes:
        attempt(f"volume {name}", client.api.remove_volume, name)
    for name in found.networks:
        attempt(f"network {name}", client.api.remove_network, name)
    for path in found.files:
        why = disk.remove(path) if disk is not None else "no disk to remove it from"
        if why:
            problems.append(f"file {path}: {why}")
    return problems
