"""A rootful Podman beside the Docker engine, for grading the lab done with ``podman``.

Debian's podman (4.3) is what a student may have instead of Docker: they type the lab with
``podman`` in place of ``docker`` and ``grade`` reads Podman's Docker-compatible socket
(``podman system service``, ``DOCKER_HOST=unix://...``). Here that Podman keeps apart from the
Docker engine and from any other Podman on the machine:

- its own storage (``CONTAINERS_STORAGE_CONF`` names a ``storage.conf`` under
  :data:`STATE_DIR`), so its images and containers never mix with anyone else's;
- its own network namespace (a veth in :data:`SUBNET`, forwarded and masqueraded like
  Docker's bridge), so the lab's ``--publish 80:80`` does not collide with the Docker lab's
  port 80. Everything that touches the network runs in it: the service, the student's
  ``podman`` (a wrapper on the student's ``PATH`` that enters the namespace first) and
  ``grade``, whose HTTP check fetches ``127.0.0.1:80`` as the student's browser would.
  ``nsenter --net``, never ``ip netns exec``, which remounts ``/sys``.

This VM's kernel refuses Podman's default rlimits, so the harness (never ``grade``) writes
``/etc/containers/containers.conf`` with smaller ``default_ulimits``, as an admin would.
The stand-in images are copied from the Docker engine (``docker save`` | ``podman load``)
and named as ``podman pull`` names them, ``docker.io/library/NAME:latest``.

    .venv/bin/python -m devlab.podman      # what scripts/setup runs: config and images
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException

from devlab.model_student import ModelStudent
from devlab.remote import ensure_host_firewall
from devlab.standins import STANDINS

STATE_DIR = Path(os.environ.get("GRADE_TEST_PODMAN_DIR", "/var/lib/grade-test-podman"))
RUN_DIR = Path("/run/grade-test-podman")
SOCKET = Path("/run/grade-test-podman.sock")
DOCKER_HOST = f"unix://{SOCKET}"
NETNS = "grade-podman"
NETNS_PATH = Path("/run/netns") / NETNS
VETH = "gth-podman"
SUBNET = "10.232.0.0/24"
GATEWAY = "10.232.0.1"
ADDRESS = "10.232.0.2"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

CONTAINERS_CONF = Path("/etc/containers/containers.conf")
CONTAINERS_CONF_TEXT = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n'
STORAGE_CONF = STATE_DIR / "storage.conf"
STORAGE_CONF_TEXT = (
    "[storage]\n"
    'driver = "overlay"\n'
    f'graphroot = "{STATE_DIR / "storage"}"\n'
    f'runroot = "{RUN_DIR / "storage"}"\n'
)
BIN_DIR = STATE_DIR / "bin"
WRAPPER = BIN_DIR / "podman"
SERVICE_LOG = RUN_DIR / "service.log"


class PodmanError(RuntimeError):
    """The test Podman could not be set up; the message names what failed."""


def pulled_name(tag: str) -> str:
    """The name ``podman pull`` gives an official image: ``alpine:latest`` -> fully qualified."""
    repository, _, version = tag.partition(":")
    return f"docker.io/library/{repository}:{version or 'latest'}"


def podman_env() -> dict[str, str]:
    """What every ``podman`` of the suite runs with: the suite's own storage."""
    return {"CONTAINERS_STORAGE_CONF": str(STORAGE_CONF)}


def _podman() -> str:
    found = shutil.which("podman", path=SYSTEM_PATH)
    if found is None:
        raise PodmanError("podman is not installed (scripts/setup installs Debian's podman)")
    return found


def _run(cmd: Sequence[str], what: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(cmd),
        capture_output=True,
        text=True,
        env={"PATH": SYSTEM_PATH, "HOME": "/root", "LANG": "C.UTF-8", **podman_env()},
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-1500:]
        raise PodmanError(f"{what}: {' '.join(cmd)} exited {done.returncode}: {output}")
    return done


def _write_if_changed(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if path.read_text() == text:
            return
    path.write_text(text)
    path.chmod(mode)


# ---------------------------------------------------------------------------- configuration


def ensure_config() -> None:
    """The admin's containers.conf, the suite's storage.conf, the student's ``podman``."""
    _write_if_changed(CONTAINERS_CONF, CONTAINERS_CONF_TEXT)
    _write_if_changed(STORAGE_CONF, STORAGE_CONF_TEXT)
    wrapper = (
        "#!/bin/sh\n"
        "# The suite's podman: own storage, own network namespace (devlab/podman.py)\n"
        f"export CONTAINERS_STORAGE_CONF={STORAGE_CONF}\n"
        f'exec nsenter --net={NETNS_PATH} -- {_podman()} "$@"\n'
    )
    _write_if_changed(WRAPPER, wrapper, 0o755)


# ---------------------------------------------------------------------------- images


def _podman_ids(names: Sequence[str]) -> dict[str, str]:
    """Podman's image id of each name it holds (``sha256:`` and all, as Docker gives ids)."""
    done = subprocess.run(
        [_podman(), "image", "inspect", "--format", "{{.Id}}", *names],
        capture_output=True,
        text=True,
        env={"PATH": SYSTEM_PATH, **podman_env()},
        check=False,
    )
    ids = done.stdout.split()
    if done.returncode != 0 or len(ids) != len(names):
        return {}  # one missing: reload all, a few seconds
    return {name: f"sha256:{i.removeprefix('sha256:')}" for name, i in zip(names, ids, strict=True)}


def ensure_images(docker_client: docker.DockerClient) -> dict[str, str]:
    """The Docker engine's stand-ins in Podman, named as pulled; tag -> image id.

    Quick when done (one ``podman image inspect``). Otherwise ``docker save`` | ``podman
    load``, then each image gets its pulled name in place of the ``localhost/`` one that
    ``podman load`` gives a ``docker save`` archive.
    """
    wanted = {pulled_name(tag): docker_client.images.get(tag).id for tag in STANDINS.values()}
    if _podman_ids(list(wanted)) == wanted:
        return wanted
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    archive = RUN_DIR / "standins.tar"
    try:
        _run(
            ["docker", "save", "--output", str(archive), *STANDINS.values()],
            "saving the stand-ins from the Docker engine",
            timeout=600,
        )
        _run([_podman(), "load", "--quiet", "--input", str(archive)], "podman load", timeout=600)
    finally:
        archive.unlink(missing_ok=True)
    for tag in STANDINS.values():
        loaded = f"localhost/{tag}"
        _run([_podman(), "tag", loaded, pulled_name(tag)], f"naming {tag} as pulled")
        _run([_podman(), "untag", loaded, loaded], f"dropping the name {loaded}")
    got = _podman_ids(list(wanted))
    if got != wanted:
        raise PodmanError(f"the stand-ins in Podman are {got}, not {wanted}")
    return wanted


# ---------------------------------------------------------------------------- network


def _netns_ok() -> bool:
    if not NETNS_PATH.exists():
        return False
    inside = subprocess.run(
        ["ip", "-n", NETNS, "-4", "-o", "addr", "show", "dev", "eth0", "up"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f" {ADDRESS}/24 " in inside.stdout


def ensure_netns() -> None:
    """The namespace, a veth pair to it, and the host forwarding and masquerading its range."""
    if not _netns_ok():
        subprocess.run(["ip", "netns", "delete", NETNS], capture_output=True, check=False)
        subprocess.run(["ip", "link", "delete", VETH], capture_output=True, check=False)
        what = f"making netns {NETNS}"
        _run(["ip", "netns", "add", NETNS], what)
        _run(["ip", "link", "add", VETH, "type", "veth", "peer", "name", "eth0", "netns", NETNS],
             what)  # fmt: skip
        _run(["ip", "addr", "add", f"{GATEWAY}/24", "dev", VETH], what)
        _run(["ip", "link", "set", VETH, "up"], what)
        for cmd in (
            ["addr", "add", f"{ADDRESS}/24", "dev", "eth0"],
            ["link", "set", "eth0", "up"],
            ["link", "set", "lo", "up"],
            ["route", "add", "default", "via", GATEWAY],
        ):
            _run(["ip", "-n", NETNS, *cmd], what)
    ensure_host_firewall(SUBNET)


def in_netns(cmd: Sequence[str]) -> list[str]:
    """``cmd`` run in the suite's Podman namespace."""
    return ["nsenter", f"--net={NETNS_PATH}", "--", *cmd]


# ---------------------------------------------------------------------------- the service


def client(timeout: int = 60) -> docker.DockerClient:
    """docker-py on Podman's Docker-compatible socket, as ``grade`` talks to it."""
    return docker.DockerClient(base_url=DOCKER_HOST, timeout=timeout)


def _answers() -> bool:
    """Whether the service answers ``/_ping`` (a plain socket: docker-py would leave one open
    when the service is not up yet)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(SOCKET))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
            head = sock.recv(64)
            return head.startswith(b"HTTP/1.") and b" 200 " in head
    except OSError:
        return False


@contextlib.contextmanager
def service() -> Iterator[str]:
    """``podman system service --time=0`` on :data:`SOCKET` while the block runs; its DOCKER_HOST.

    One already answering there (a run that was killed) is used as it is.
    """
    if _answers():
        yield DOCKER_HOST
        return
    SOCKET.unlink(missing_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with SERVICE_LOG.open("ab") as log:
        proc = subprocess.Popen(
            in_netns([_podman(), "system", "service", "--time=0", DOCKER_HOST]),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={"PATH": SYSTEM_PATH, "HOME": "/root", "LANG": "C.UTF-8", **podman_env()},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = SERVICE_LOG.read_text(errors="replace").splitlines()[-10:]
                raise PodmanError("podman system service did not answer:\n" + "\n".join(tail))
            time.sleep(0.1)
        yield DOCKER_HOST
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        SOCKET.unlink(missing_ok=True)


@dataclass(frozen=True)
class PodmanHost:
    """Where the suite's Podman answers, and how a student and ``grade`` reach it."""

    docker_host: str = DOCKER_HOST

    def student(self, home: Path) -> ModelStudent:
        """The model student typing ``podman`` (the suite's wrapper first on the PATH)."""
        path = f"{BIN_DIR}:{os.environ.get('PATH', SYSTEM_PATH)}"
        return ModelStudent(
            home, docker_host=self.docker_host, cli="podman", cli_env={"PATH": path}
        )

    def grade_env(self) -> dict[str, str]:
        """``grade``'s environment: the compat socket is the engine the docker CLI would use."""
        return {"DOCKER_HOST": self.docker_host}


def ensure_podman(docker_client: docker.DockerClient) -> None:
    """Everything but the service: config, namespace, images (seconds when all is there)."""
    ensure_config()
    ensure_netns()
    ensure_images(docker_client)


def main() -> int:
    """`python -m devlab.podman`: config and stand-ins, as scripts/setup wants them."""
    started = time.monotonic()
    try:
        docker_client = docker.from_env()
        ensure_config()
        ids = ensure_images(docker_client)
    except (PodmanError, DockerException, OSError) as exc:
        print(f"podman: {exc}", file=sys.stderr)
        return 1
    print(
        f"podman: stand-ins current ({', '.join(sorted(ids))}) in "
        f"{time.monotonic() - started:.1f} s; {json.dumps(str(STORAGE_CONF))} keeps them"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
