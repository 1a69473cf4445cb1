"""What tests and benchmarks do on the built hosts: run a command or ``grade`` there as
the host's own user, measure the hosts' CPU, spoil and restore a step, keep, reset or
redo a host's lab.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from devlab.host import flood_events, reset_lab
from devlab.remote.hosts import (
    ENGINES,
    HISTORY_MARGIN,
    SPOILERS,
    SYSTEM_PATH,
    RemoteHost,
    RemoteHostError,
    _EngineSpec,
)
from devlab.remote.lab import _clear_home, _do_lab, _keep_history, _stamp_path, _student
from devlab.remote.processes import _client, _dockerd_pid, _lock, _sshd_pid, _wait, engine_client
from devlab.standins import STANDINS


def _spec_of(host: RemoteHost) -> _EngineSpec:
    for spec in ENGINES:
        if spec.docker_host == host.docker_host:
            return spec
    raise RemoteHostError(f"host {host.name} has no engine of its own")


def _user_env(host: RemoteHost) -> dict[str, str]:
    """The environment sshd gives the host's user (see ``_sshd_config``)."""
    env = {
        "HOME": str(host.home),
        "USER": host.user,
        "LOGNAME": host.user,
        "SHELL": "/bin/bash",
        "PATH": host.path,
        "LANG": "C.UTF-8",
        "DOCKERID": host.dockerid,
    }
    if host.docker_host is not None:
        env["DOCKER_HOST"] = host.docker_host
    return env


def run_in_netns(
    host: RemoteHost, command: str, *, as_root: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``bash -c command`` inside the host's namespace, as its user (or root), unchecked.

    As the user it has the environment that user's ssh commands get (``DOCKER_HOST``, its
    ``PATH``); as root, ``DOCKER_HOST`` too, so ``docker`` there is that host's engine.
    """
    env = _user_env(host)
    if as_root:
        env.update(HOME="/root", USER="root", LOGNAME="root", PATH=SYSTEM_PATH)
        inner = ["bash", "-c", command]
    else:
        assignments = [f"{k}={v}" for k, v in env.items()]
        inner = ["runuser", "-u", host.user, "--", "env", "-i", *assignments, "bash", "-c", command]
    return subprocess.run(
        ["nsenter", f"--net={host.netns_path}", "--", *inner],
        env={**env, "PATH": SYSTEM_PATH} if not as_root else env,
        cwd=host.home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def grade_locally(
    host: RemoteHost, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``grade --json`` on the host itself: in its namespace, on its socket, with its home.

    What ``grade --host`` must agree with. The web check reaches that namespace's port 80.
    """
    if host.docker_host is None:
        raise RemoteHostError(f"host {host.name} has no engine to grade")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV"))}
    for name in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        environ.pop(name, None)
    environ.update(
        HOME=str(host.home), DOCKER_HOST=host.docker_host, DOCKERID=host.dockerid, NO_COLOR="1"
    )
    environ.update(env or {})
    return subprocess.run(
        ["nsenter", f"--net={host.netns_path}", "--", sys.executable, "-m", "grader.cli",
         "--json", *args],
        env=environ,
        cwd=host.home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )  # fmt: skip


def hosts_cpu_seconds() -> float:
    """CPU the hosts' own side has used so far: every engine's dockerd, its containerd,
    the shims and what runs in them (``docker exec``), and each sshd with the sessions
    it has reaped (the ``sh``, ``docker`` and ``cat`` that grading ran there).

    For a benchmark's "both sides" cost per host: take it before and after a run.
    """
    ticks = 0
    for spec in ENGINES:
        pids = {_dockerd_pid(spec), _sshd_pid(spec)}
        marker = str(spec.exec_root).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes():  # containerd, its shims
                    pids.add(int(entry.name))
        for pid in pids - {None}:
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += sum(int(value) for value in fields[11:15])  # own and reaped children
    return ticks / os.sysconf("SC_CLK_TCK")


def spoil(host: RemoteHost, name: str) -> None:
    """Do one of :data:`SPOILERS` on the host, as its student would type it.

    Put it back with :func:`restore`; a host left spoiled is redone by the next
    :func:`ensure_remote_hosts`, which checks the lab's containers.
    """
    _student(_spec_of(host)).sh(SPOILERS[name].spoil)


def restore(host: RemoteHost, name: str) -> None:
    """Undo a spoiler, waiting for what it restarts (mysql) to be up again."""
    spec = _spec_of(host)
    started = time.time()
    _student(spec).sh(SPOILERS[name].restore)
    if SPOILERS[name].restarts_mysql:
        _wait_for_mysql(host, since=started)


def _wait_for_mysql(host: RemoteHost, *, since: float, timeout: float = 120) -> None:
    client = engine_client(host)
    try:

        def listening() -> bool:
            logs = client.api.logs("mydb", since=int(since)).decode(errors="replace")
            return "port: 3306" in logs

        if not _wait(listening, timeout, 0.5):
            raise RemoteHostError(f"mysql in mydb on netns {host.netns} did not come up")
    finally:
        client.close()


def keep_history(host: RemoteHost, margin: int = HISTORY_MARGIN) -> None:
    """Redo step 1.2 if more than ``margin`` events followed it (one ``grade`` adds about 5).

    The engine keeps its latest 256 events only, and ``ubuntu.interactive`` reads step 1.2
    there: call this between rounds of many gradings of one engine.
    """
    spec = _spec_of(host)
    with _lock():
        client = _client(spec, timeout=120)
        try:
            stamp = json.loads(_stamp_path(spec).read_text())
            _keep_history(spec, client, stamp, margin)
        except (OSError, ValueError) as exc:
            raise RemoteHostError(
                f"the lab of {host.name} is not done: {exc}; call ensure_remote_hosts()"
            ) from exc
        finally:
            client.close()


def reset_host_lab(host: RemoteHost) -> None:
    """The host as if its student had not done the lab: no containers, lab images, files or
    events (the engine's history outlives its containers). The stand-in images stay, as pulled
    images would; the next :func:`ensure_remote_hosts` does the lab again.
    """
    spec = _spec_of(host)
    with _lock():
        _stamp_path(spec).unlink(missing_ok=True)
        client = _client(spec, timeout=120)
        try:
            reset_lab(client)
            flood_events(client)
        finally:
            client.close()
        _clear_home(spec.owner)


def redo_lab(host: RemoteHost) -> None:
    """Reset the host, then the whole lab again, with the host's own spoilers."""
    spec = _spec_of(host)
    with _lock():
        client = _client(spec, timeout=120)
        try:
            ids = {tag: client.images.get(tag).id for tag in STANDINS.values()}
            _do_lab(spec, client, ids)
        finally:
            client.close()
