"""Make sure a Docker engine answers, starting Debian's dockerd when we are root.

CI runs on a fresh machine with no dockerd running, and the lab's images cannot be
pulled there, so the engine tests start their own engine instead of assuming one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import docker
from docker.errors import DockerException

DOCKERD_LOG = Path("/var/log/grade-test-dockerd.log")
APT_PACKAGE = "docker.io"


class EngineError(RuntimeError):
    """No Docker engine answers and none could be started."""


def _ping() -> str | None:
    """Return the engine's version if it answers, else None."""
    try:
        client = docker.from_env(timeout=5)
    except DockerException:
        return None
    try:
        client.ping()
        return str(client.version().get("Version", "?"))
    except (DockerException, OSError):
        return None
    finally:
        client.close()


def _install_dockerd() -> None:
    """Install Debian's docker.io, which brings dockerd, containerd and runc."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"engine: installing {APT_PACKAGE} with apt-get", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdin=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", APT_PACKAGE],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _start_dockerd() -> subprocess.Popen[bytes]:
    """Start dockerd in its own session so it outlives the caller (pytest, setup)."""
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with DOCKERD_LOG.open("ab") as log:
        return subprocess.Popen(
            [dockerd],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def _log_tail(lines: int = 15) -> str:
    try:
        return "\n".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def ensure_engine(timeout: float = 90) -> None:
    """Return once a Docker engine answers; as root, install and start dockerd if needed."""
    if _ping() is not None:
        return
    if os.geteuid() != 0:
        raise EngineError(
            "No Docker engine answers (docker.from_env().ping() failed) and we are not root, "
            "so none can be started here. Start dockerd or set DOCKER_HOST."
        )
    if shutil.which("dockerd") is None and not Path("/usr/sbin/dockerd").exists():
        _install_dockerd()
    if _ping() is not None:  # the package's own service may have started it
        return
    print(f"engine: starting dockerd (log: {DOCKERD_LOG})", flush=True)
    proc = _start_dockerd()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ping() is not None:
            return
        if proc.poll() is not None and _ping() is None:
            raise EngineError(
                f"dockerd exited with status {proc.returncode} before answering; "
                f"last lines of {DOCKERD_LOG}:\n{_log_tail()}"
            )
        time.sleep(0.5)
    raise EngineError(
        f"dockerd did not answer within {timeout:.0f} s; last lines of {DOCKERD_LOG}:\n"
        f"{_log_tail()}"
    )


def main() -> int:
    """`python -m devlab.engine`: ensure the engine and say which one answers."""
    try:
        ensure_engine()
    except (EngineError, subprocess.CalledProcessError) as exc:
        print(f"engine: {exc}", file=sys.stderr)
        return 1
    print(f"engine: Docker engine {_ping()} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
