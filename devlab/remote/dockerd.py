"""Each engine host's own ``dockerd`` (data-root, exec-root, socket, pidfile, UTS name),
started with ``nsenter --net`` in its namespace, and the stand-in images loaded into it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import docker
from docker.errors import DockerException

from devlab.remote.hosts import STATE_DIR, SYSTEM_PATH, RemoteHostError, _EngineSpec
from devlab.remote.processes import (
    _client,
    _detach,
    _dockerd_pid,
    _proc,
    _read_pid,
    _run,
    _running,
    _stop,
    _tail,
    _wait,
)
from devlab.standins import STANDINS

log = logging.getLogger("devlab.remote")


def _standins_tarball(main: docker.DockerClient) -> tuple[Path, dict[str, str]]:
    """``docker save`` of the main engine's stand-ins, once per set of image ids."""
    ids = {tag: main.images.get(tag).id for tag in STANDINS.values()}
    key = hashlib.sha256(json.dumps(ids, sort_keys=True).encode()).hexdigest()[:16]
    tarball = STATE_DIR / f"standins-{key}.tar"
    if not tarball.exists():
        started = time.monotonic()
        partial = tarball.with_suffix(".partial")
        env = {"PATH": SYSTEM_PATH, "HOME": "/root"}
        _run(
            ["docker", "save", "--output", str(partial), *ids],
            "saving the stand-in images from the main engine",
            env=env,
            timeout=600,
        )
        for old in STATE_DIR.glob("standins-*.tar"):
            old.unlink()
        partial.rename(tarball)
        log.info("docker save of the stand-ins: %.1f s", time.monotonic() - started)
    return tarball, ids


def _dockerd_args(spec: _EngineSpec) -> list[str]:
    return [
        shutil.which("dockerd", path=SYSTEM_PATH) or "/usr/sbin/dockerd",
        f"--data-root={spec.data_root}",
        f"--exec-root={spec.exec_root}",
        f"--host={spec.docker_host}",
        f"--pidfile={spec.run_dir / 'dockerd.pid'}",
        f"--group={spec.group}",
        f"--cgroup-parent=/grade-test-{spec.name}",
        f"--config-file={spec.state_dir / 'daemon.json'}",
    ]


def _daemon_json(spec: _EngineSpec) -> str:
    # Docker 20.10 takes its engine ID from this key, /etc/docker/key.json by default (the
    # main engine's ID), unless each engine has a key of its own; only daemon.json sets it.
    return json.dumps({"deprecated-key-path": str(spec.state_dir / "engine-key.json")}) + "\n"


def _dockerd_healthy(spec: _EngineSpec) -> bool:
    pid = _running(spec.run_dir / "dockerd.pid", "dockerd", spec.netns)
    if pid is None:
        return False
    try:
        if (spec.state_dir / "daemon.json").read_text() != _daemon_json(spec):
            return False
        if os.stat(f"/proc/{pid}/ns/uts").st_ino == os.stat("/proc/self/ns/uts").st_ino:
            return False  # started before engines had names of their own
        if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:-1] != [
            a.encode() for a in _dockerd_args(spec)[1:]
        ]:
            return False
        client = _client(spec, timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (OSError, DockerException):
        return False


def _unmount_under(*folders: Path) -> None:
    """Lazily unmount whatever a killed dockerd left mounted under its folders."""
    mounts: list[str] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].replace("\\040", " ")
            if any(point == str(f) or point.startswith(f"{f}/") for f in folders):
                mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        _run(["umount", "--lazy", point], "umount", check=False)


def _start_dockerd(spec: _EngineSpec) -> None:
    spec.run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    (spec.run_dir / "dockerd.pid").unlink(missing_ok=True)
    log = spec.run_dir / "dockerd.log"
    log.write_text("")
    config = spec.state_dir / "daemon.json"
    if not config.exists() or config.read_text() != _daemon_json(spec):
        config.write_text(_daemon_json(spec))
    # A UTS namespace of its own, so the engine's name (its hostname) tells the hosts apart.
    launch = 'hostname "$0" && exec "$@"'
    pid = _detach(
        [
            "nsenter",
            f"--net=/run/netns/{spec.netns}",
            "--",
            "unshare",
            "--uts",
            "--",
            "sh",
            "-c",
            launch,
            spec.netns,
            *_dockerd_args(spec),
        ],
        log,
        {"PATH": SYSTEM_PATH, "HOME": "/root", "LANG": "C.UTF-8"},
    )

    def up() -> bool:
        if _read_pid(spec.run_dir / "dockerd.pid") is None:
            return False
        with contextlib.suppress(OSError, DockerException):
            client = _client(spec, timeout=5)
            try:
                return bool(client.ping())
            finally:
                client.close()
        return False

    def gave_up() -> bool:
        return up() or _proc(pid) is None

    _wait(gave_up, 60)
    if not up():
        _stop(pid)
        raise RemoteHostError(
            f"dockerd in netns {spec.netns} did not start; last lines of {log}:\n{_tail(log)}"
        )


def _ensure_dockerd(spec: _EngineSpec) -> bool:
    """This host's engine answering on its socket; True if it was (re)started."""
    if _dockerd_healthy(spec):
        return False
    _stop(_dockerd_pid(spec))
    _unmount_under(spec.exec_root, spec.data_root)
    had_data = spec.data_root.is_dir() and any(spec.data_root.iterdir())
    started = time.monotonic()
    try:
        _start_dockerd(spec)
    except RemoteHostError:
        if not had_data:
            raise
        # A data-root left by a killed engine can keep the next one from starting: start afresh.
        _stop(_dockerd_pid(spec))
        _unmount_under(spec.exec_root, spec.data_root)
        shutil.rmtree(spec.data_root, ignore_errors=True)
        shutil.rmtree(spec.exec_root, ignore_errors=True)
        _start_dockerd(spec)
    log.info("%s: dockerd started: %.1f s", spec.netns, time.monotonic() - started)
    return True


def _ensure_images(spec: _EngineSpec, tarball: Path, ids: dict[str, str]) -> None:
    client = _client(spec)
    try:
        have = {tag: image.id for image in client.images.list() for tag in image.tags}
    finally:
        client.close()
    if all(have.get(tag) == image_id for tag, image_id in ids.items()):
        return
    started = time.monotonic()
    _run(
        ["docker", "load", "--quiet", "--input", str(tarball)],
        f"loading the stand-in images into the engine of netns {spec.netns}",
        env={"PATH": SYSTEM_PATH, "HOME": "/root", "DOCKER_HOST": spec.docker_host},
        timeout=600,
    )
    log.info("%s: docker load of the stand-ins: %.1f s", spec.netns, time.monotonic() - started)
