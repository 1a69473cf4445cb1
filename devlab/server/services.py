"""Real services for the server's tests and the benchmark: PostgreSQL and gunicorn.

PostgreSQL comes from Debian's package (``scripts/setup`` installs it): a
throw-away cluster is initdb'd into a temporary folder and started on a free
loopback port; as root it runs as the ``postgres`` user. gunicorn serves
``webhook:create_app()`` on a free loopback port. Both stop when closed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bindir() -> Path:
    """Where Debian's PostgreSQL binaries are, or a clear error naming scripts/setup."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise ServiceError(
        "PostgreSQL is not installed (no pg_ctl): run scripts/setup, which installs the "
        "Debian packages of scripts/apt-packages.txt (postgresql among them)"
    )


class Postgres:
    """A private PostgreSQL cluster: ``with Postgres() as pg: pg.url("mydb")``."""

    def __init__(self, *, durable: bool = False) -> None:
        self.bindir = postgres_bindir()
        self.durable = durable
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="grader-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise ServiceError(
                f"{args[0]} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    def start(self) -> Postgres:
        if self.user is not None:
            shutil.chown(self.root, self.user)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200"
        )
        if not self.durable:  # a test cluster: losing it on a crash costs nothing
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Gunicorn:
    """``gunicorn 'webhook:create_app()'`` on a free loopback port with ``env`` added
    (by default this checkout's; ``checkout`` another one's, with its own ``.venv``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        workers: int = 2,
        log: Path,
        app: str = "webhook:create_app()",
        extra: tuple[str, ...] = (),
        checkout: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        python = sys.executable if checkout is None else str(checkout / ".venv" / "bin" / "python")
        self.command = [
            python, "-m", "gunicorn", "--workers", str(workers),
            "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
            *extra, app,
        ]  # fmt: skip
        self.env = {**os.environ, **env, "PYTHONPATH": str(checkout or REPO)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Gunicorn:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.log.parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"gunicorn exited at start:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise ServiceError(f"gunicorn not ready in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def workers(self) -> list[int]:
        """The pids of the master's worker processes."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def postgres(durable: bool = False) -> Iterator[Postgres]:
    with Postgres(durable=durable) as server:
        yield server
