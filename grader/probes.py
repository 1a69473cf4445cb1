"""Things grading has to *do* on the engine, each bounded in time and tidy afterwards.

A probe runs a throwaway container, reads files out of an image, runs a command
inside a student's container (an exec through the graded engine's API) or fetches a
page. Throwaway containers are labelled, kept off the network and always removed again.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tarfile
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import docker
import docker.errors
import requests

from grader.engine import background
from grader.engine.facts import container_logs
from grader.run.activity import doing

THROWAWAY_LABEL = "org.docker-lab-grader.throwaway"
#: How grading runs a command in a student's container: ``docker exec NAME /bin/sh -c ...``
#: (``grade --watch`` tells these execs from a student's by it).
EXEC_SHELL = "/bin/sh -c"
_EXEC_SHELL_ARGV = EXEC_SHELL.split()


class OwnExecs:
    """Grading's own execs that the engine's event stream has not shown yet, by container name.

    Docker's exec events name the command (``exec_start: /bin/sh -c ...``); Podman's say only
    ``exec``. ``grade --watch`` counts them off as they come, so that its own probe never
    sets off another grading: on Podman each grading's exec into mydb did, every second.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter()

    def expect(self, container_name: str) -> None:
        """Grading is about to exec into this container: its event will come."""
        with self._lock:
            self._pending[container_name] += 1

    def cancel(self, container_name: str) -> None:
        """The exec did not happen after all."""
        self.claim(container_name)

    def claim(self, container_name: str) -> bool:
        """True, once per exec of grading's own in this container not yet claimed."""
        with self._lock:
            if self._pending[container_name] <= 0:
                return False
            self._pending[container_name] -= 1
            return True


#: This process's own execs (one grading at a time, or ``grade --watch``'s in turn).
OWN_EXECS = OwnExecs()


@dataclass(frozen=True)
class RunOutput:
    """What a throwaway container did, and the files asked for from it afterwards."""

    exit_code: int
    output: str
    hostname: str
    files: dict[str, bytes | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandOutput:
    """What a command inside a student's container did."""

    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class PageOutput:
    """What an HTTP GET returned."""

    status: int
    body: bytes


def run_throwaway(
    client: docker.DockerClient,
    image_id: str,
    command: list[str] | None,
    *,
    timeout: float,
    files: tuple[str, ...] = (),
    volumes: Mapping[str, str] | None = None,
) -> RunOutput:
    """Run ``command`` in a new container of ``image_id``; the container is removed again.

    ``files`` are read from the container after it exits: one container serves
    both, because every container adds events to the engine's short event
    history, which holds the evidence of the lab's ``--rm`` step. ``volumes``: named
    volumes to mount, each at its path (``{"notes": "/data"}``), read-only, so a check reads
    what a student's volume holds and never changes it (the engine makes a volume it does
    not know: look it up first).
    """
    # named by grade, so no inspect is needed to learn it (one round trip fewer)
    hostname = f"grade-{secrets.token_hex(6)}"
    with doing(f"running {' '.join(command or ['the default command'])} in image {image_id[7:19]}"):
        container = client.api.create_container(
            image_id,
            command=command,
            hostname=hostname,
            labels={THROWAWAY_LABEL: "1"},
            host_config=client.api.create_host_config(
                network_mode="none",
                binds=[f"{name}:{path}:ro" for name, path in (volumes or {}).items()] or None,
            ),
        )
        try:
            try:
                client.api.start(container["Id"])
            except docker.errors.APIError as exc:  # e.g. the command is not in the image
                return RunOutput(127, str(exc.explanation or exc), hostname)
            status = client.api.wait(container["Id"], timeout=timeout)
            return RunOutput(
                exit_code=int(status.get("StatusCode", -1)),
                output=container_logs(client, container["Id"], tty=False),
                hostname=hostname,
                files=_read_files(client, container["Id"], files),
            )
        finally:
            _remove_quietly(client, container["Id"])


def finished_run(
    client: docker.DockerClient,
    container_id: str,
    *,
    files: tuple[str, ...] = (),
    attrs: dict[str, Any] | None = None,
) -> RunOutput:
    """What a container that already ran and exited did, read without running anything.

    ``attrs``: its inspect, when the caller has it already (one round trip fewer).
    """
    with doing(f"reading what container {container_id[:12]} printed"):
        attrs = attrs or client.api.inspect_container(container_id)
        return RunOutput(
            exit_code=int(attrs["State"].get("ExitCode", -1)),
            output=container_logs(client, container_id, tty=bool(attrs["Config"].get("Tty"))),
            hostname=attrs["Config"].get("Hostname") or "",
            files=_read_files(client, container_id, files),
        )


def _read_files(
    client: docker.DockerClient, container_id: str, paths: tuple[str, ...]
) -> dict[str, bytes | None]:
    """Each file's bytes (None: not a file there), all asked for at once: the engine
    mounts a stopped container's filesystem for each, 50-80 ms apiece."""
    if len(paths) < 2:
        return {path: _read_one(client, container_id, path) for path in paths}
    reads = {
        path: background.start(partial(_read_one, client, container_id, path), f"reading {path}")
        for path in paths
    }
    return {path: read.result() for path, read in reads.items()}


def _read_one(client: docker.DockerClient, container_id: str, path: str) -> bytes | None:
    try:
        stream, _stat = client.api.get_archive(container_id, path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        member = next((m for m in archive.getmembers() if m.isfile()), None)
        if member is None:
            return None
        handle = archive.extractfile(member)
        return handle.read() if handle else None


def _remove_quietly(client: docker.DockerClient, container_id: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        client.api.remove_container(container_id, force=True, v=True)


def exec_shell(client: docker.DockerClient, container_name: str, script: str) -> CommandOutput:
    """Run a shell script in the container, so ``$VARIABLES`` expand *inside* it.

    The exec goes through the engine being graded, the one every other fact comes from
    (``grade -H``/``--context`` included; a ``docker exec`` in a shell would go to
    whichever engine the CLI picks). The MySQL password is read by the container's own
    shell from its own environment: it never passes through the grader.
    """
    with doing(f"running a command in container {container_name}"):
        OWN_EXECS.expect(container_name)  # before it starts: the event may come at once
        try:
            exec_id = client.api.exec_create(container_name, [*_EXEC_SHELL_ARGV, script])["Id"]
        except BaseException:
            OWN_EXECS.cancel(container_name)
            raise
        stdout, stderr = client.api.exec_start(exec_id, demux=True)
        exit_code = client.api.exec_inspect(exec_id).get("ExitCode")
        return CommandOutput(
            exit_code if isinstance(exit_code, int) else -1,
            (stdout or b"").decode("utf-8", "replace"),
            (stderr or b"").decode("utf-8", "replace"),
        )


def http_get(host: str, port: int, path: str = "/", *, timeout: float) -> PageOutput:
    """GET a page the way a browser on the student's machine would."""
    with doing(f"fetching http://{host}:{port}{path}"):
        response = requests.get(f"http://{host}:{port}{path}", timeout=timeout)
        return PageOutput(response.status_code, response.content)
