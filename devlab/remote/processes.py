"""The hosts' processes: run a command, find our own ``dockerd``, ``sshd`` and stall
listener by their pidfiles, start one that outlives us, stop one, wait, and lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker

from devlab.remote.hosts import (
    COMPLETE,
    RUN_DIR,
    STALL_MARKER,
    STALL_PIDFILE,
    SYSTEM_PATH,
    RemoteHost,
    RemoteHostError,
    _EngineSpec,
)


def _run(
    cmd: list[str],
    what: str,
    *,
    check: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; when it fails, raise an error naming ``what`` and the end of its stderr."""
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env or {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
        **kwargs,
    )
    if check and done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-1500:]
        raise RemoteHostError(f"{what}: {' '.join(cmd)} exited {done.returncode}: {output}")
    return done


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _proc(pid: int) -> tuple[str, int] | None:
    """(comm, start time) of a live process, None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2 :].split()
    if rest[0] in ("Z", "X"):
        return None
    return comm, int(rest[19])


def _read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _in_netns(pid: int, netns: str) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/run/netns/{netns}").st_ino
    except OSError:
        return False


def _running(pidfile: Path, comm: str, netns: str) -> int | None:
    """The pid in ``pidfile`` if that process is a live ``comm`` inside ``netns``."""
    pid = _read_pid(pidfile)
    if pid is None:
        return None
    info = _proc(pid)
    if info is None or not info[0].startswith(comm) or not _in_netns(pid, netns):
        return None
    return pid


def _our_pid(pidfile: Path, marker: Path | str) -> int | None:
    """The pid in ``pidfile`` if that process's command line names ``marker`` (one of our
    own files): a stale pidfile's number may belong to someone else's process by now."""
    pid = _read_pid(pidfile)
    if pid is None or _proc(pid) is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if str(marker).encode() in cmdline else None


def _dockerd_pid(spec: _EngineSpec) -> int | None:
    return _our_pid(spec.run_dir / "dockerd.pid", spec.data_root)


def _sshd_pid(spec: _EngineSpec) -> int | None:
    return _our_pid(spec.run_dir / "sshd.pid", spec.state_dir / "sshd_config")


def _stall_pid() -> int | None:
    return _our_pid(STALL_PIDFILE, STALL_MARKER)


def _stop(pid: int | None, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; returns once the process is gone."""
    if pid is None or _proc(pid) is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _proc(pid) is None:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while _proc(pid) is not None and time.monotonic() < deadline + 10:
        time.sleep(0.1)


def _wait(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _banner(address: str, port: int, timeout: float = 2) -> bytes | None:
    """The first bytes a server at (address, port) sends, b"" if silent, None if no connect."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            try:
                return conn.recv(64)
            except TimeoutError:
                return b""
    except OSError:
        return None


def _detach(cmd: list[str], log: Path, env: dict[str, str]) -> int:
    """Start ``cmd`` in a session of its own that outlives us, logging; return its pid.

    ``setsid --fork`` leaves no child of ours behind (a ``Popen`` of a process that outlives
    the test would warn); the shell writes its pid, then ``exec``s the command in its place.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    launched = log.with_suffix(".launched")
    launched.unlink(missing_ok=True)
    with log.open("ab") as out:
        subprocess.run(
            ["setsid", "--fork", "sh", "-c", 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"',
             str(launched), *cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            check=True,
            close_fds=True,
        )  # fmt: skip
    if not _wait(launched.exists, 10, 0.01):
        raise RemoteHostError(f"{cmd[0]} did not start; {log}:\n{_tail(log)}")
    pid = _read_pid(launched)
    launched.unlink(missing_ok=True)
    if pid is None:
        raise RemoteHostError(f"{cmd[0]} did not start; {log}:\n{_tail(log)}")
    return pid


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """One builder at a time across processes (two pytest sessions, a bench beside a test)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with (RUN_DIR / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _client(spec: _EngineSpec | RemoteHost, timeout: int = 30) -> docker.DockerClient:
    return docker.DockerClient(base_url=spec.docker_host, timeout=timeout)


def engine_client(host: RemoteHost) -> docker.DockerClient:
    """docker-py on the host's own engine, through its local socket."""
    if host.docker_host is None:
        raise RemoteHostError(f"host {host.name} has no engine behind it")
    return _client(host)


def _stop_processes(spec: _EngineSpec) -> None:
    _stop(_sshd_pid(spec))
    _stop(_dockerd_pid(spec))
    if spec is COMPLETE:
        _stop(_stall_pid())
