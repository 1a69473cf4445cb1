"""``grade start``: is this machine ready for the lab? Each problem one line with its fix.

Only reads: the engine's answers, ``/proc`` for a host process on a port, the disk's free
space, the lab's settings. The judging is pure (:func:`port_problems`,
:func:`conflict_problems`, :func:`setting_problems`) and tested without an engine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from grader.labtools.declared import Objects, Preflight
from grader.labtools.objects import Found, find
from grader.settings import fields_of

#: What holds a published port for a container (not a process of the student's own).
ENGINE_PROXIES = frozenset({"docker-proxy", "rootlessport", "conmon", "slirp4netns", "pasta"})


@dataclass(frozen=True)
class Problem:
    """Something in the way of the lab, and the command that clears it."""

    what: str
    fix: str

    def line(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what


def port_problems(
    port: int, containers: Iterable[Mapping[str, Any]], processes: Iterable[tuple[int, str]]
) -> list[Problem]:
    """Who holds ``port``: running containers publishing it, then host processes (engine
    proxies left out: they are the containers' own)."""
    problems = []
    for container in containers:
        published = {p.get("PublicPort") for p in container.get("Ports") or []}
        if port in published and container.get("State") == "running":
            name = (container.get("Names") or ["/?"])[0].lstrip("/")
            problems.append(
                Problem(
                    f"port {port} is taken by container {name} ({container.get('Image', '?')})",
                    f"docker container stop {name}",
                )
            )
    for pid, command in processes:
        if command in ENGINE_PROXIES:
            continue
        who = f"process {pid} ({command})" if pid else "a process of another user"
        fix = f"stop it (sudo kill {pid})" if pid else f"find it: sudo ss -ltnp 'sport = :{port}'"
        problems.append(Problem(f"port {port} is taken by {who} on this machine", fix))
    return problems


def conflict_problems(found: Found) -> list[Problem]:
    """What an earlier try left: each of the lab's own objects already there."""
    problems = []
    for what in found.containers.values():
        name = what.split(" ", 1)[0]
        problems.append(
            Problem(f"a container {what} is left from an earlier try",
                    f"docker container rm --force {name}  (or grade finish)")
        )  # fmt: skip
    for tag in found.images:
        problems.append(
            Problem(f"an image {tag} is left from an earlier try",
                    f"docker image rm {tag}  (or grade finish)")
        )  # fmt: skip
    for name in found.volumes:
        problems.append(Problem(f"a volume {name} is left", f"docker volume rm {name}"))
    for name in found.networks:
        problems.append(Problem(f"a network {name} is left", f"docker network rm {name}"))
    return problems


def setting_problems(settings_type: type, values: object, wanted: Iterable[str]) -> list[Problem]:
    """The lab's settings a student must set and has not (``DOCKERID``)."""
    problems = []
    for field in fields_of(settings_type):
        if field.name in wanted and getattr(values, field.name, None) in (None, ""):
            where = f"export {field.info.env}=..." if field.info.env else f"{field.option} ..."
            help_text = field.info.help.rstrip(".").lower()
            problems.append(
                Problem(f"{field.info.env or field.name} is not set ({help_text})",
                        f'{where} (or {field.name} = "..." in grade.toml)')
            )  # fmt: skip
    return problems


def disk_problem(free_mb: int, wanted_mb: int, where: str) -> Problem | None:
    if free_mb >= wanted_mb:
        return None
    return Problem(
        f"only {free_mb} MB free at {where}, the lab needs about {wanted_mb} MB",
        "docker system prune (removes stopped containers and unused images), or free disk space",
    )


# -- reading the machine ------------------------------------------------------------------


def listening_processes(port: int, proc: Path = Path("/proc")) -> list[tuple[int, str]]:
    """The processes listening on TCP ``port`` here, as ``(pid, command)``; pid 0 when the
    socket is seen but its process is another user's (unreadable)."""
    inodes = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            lines = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    if not inodes:
        return []
    holders: dict[int, str] = {}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    holders[int(pid_dir.name)] = (pid_dir / "comm").read_text().strip()
                    break
        except OSError:
            continue
    return sorted(holders.items()) or [(0, "")]


def engine_line(client: docker.DockerClient, endpoint: str) -> str:
    """``Docker Engine 20.10.24 (API 1.41) at unix:///var/run/docker.sock``."""
    version = client.version()
    names = [c.get("Name", "") for c in version.get("Components") or []]
    product = next((n for n in names if "Podman" in n), "Docker Engine")
    api = version.get("ApiVersion", "?")
    return f"{product} {version.get('Version', '?')} (API {api}) at {endpoint}"


def image_problems(
    client: docker.DockerClient, images: Iterable[str]
) -> tuple[list[str], list[Problem]]:
    """Each image present, else pullable (its registry answers for it): notes and problems."""
    notes, problems = [], []
    for image in images:
        try:
            client.api.inspect_image(image)
            continue
        except docker.errors.NotFound:
            pass
        try:
            client.api.inspect_distribution(image)
            notes.append(f"{image} is not here yet: docker pulls it at its first use")
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            why = getattr(exc, "explanation", None) or str(exc)
            problems.append(
                Problem(f"image {image} is not here and cannot be pulled ({why[:120]})",
                        f"docker image pull {image}  (once the registry can be reached)")
            )  # fmt: skip
    return notes, problems


def machine_problems(
    client: docker.DockerClient,
    *,
    preflight: Preflight,
    objects: Objects,
    variables: Mapping[str, str],
    local: bool,
) -> tuple[list[str], list[Problem]]:
    """Everything ``grade start`` checks once the engine answers: notes and problems."""
    notes, problems = image_problems(client, preflight.images)
    containers = client.api.containers(all=True)
    for port in preflight.ports:
        problems += port_problems(port, containers, listening_processes(port) if local else [])
    found = find(client, objects, variables=variables, disk=None)
    problems += conflict_problems(found)
    if preflight.disk_mb and local:
        root = Path(str(client.info().get("DockerRootDir") or "/var/lib/docker"))
        try:
            free = shutil.disk_usage(root).free // 2**20
        except OSError:
            notes.append(f"cannot see the free space at {root}")
        else:
            problem = disk_problem(free, preflight.disk_mb, str(root))
            problems += [problem] if problem else []
    return notes, problems
