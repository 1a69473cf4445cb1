"""A lab machine reached over SSH, with the system's ``ssh`` client.

Everything goes through the ``ssh`` command, so ``~/.ssh/config``, the agent, jump
hosts and ``known_hosts`` work as in a terminal; one master connection per host
(``ControlMaster``) carries all of it:

- the engine: the host's Docker socket forwarded to a local Unix socket by the master
  connection (``ssh -O forward``), which docker-py talks to: each API connection is a
  channel of that one connection, no process on either side. Where that cannot be
  (an engine that is not a Unix socket there, an sshd that refuses socket forwarding),
  ``docker system dial-stdio`` on the host, one ``ssh`` per API connection, bridged to
  the local socket. (docker-py's own ``ssh://`` transport runs the same command but
  imports paramiko even when it shells out; a student's install has no reason to
  carry it.)
- files and commands (``docker exec`` into mydb): testinfra's SSH backend;
- the web check: ``localhost:80`` of the host, forwarded to a local port, so it is
  what a browser on that machine would see, never the instructor's own port 80.

An unknown host key is never accepted silently (``StrictHostKeyChecking yes``) unless
asked to (``accept-new``, as ssh does it). :meth:`SshHost.check` turns every way of
failing (unreachable, key refused, unknown host key, no Docker, no permission on the
socket, a host that accepts and then stalls) into one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

from grader.errors import EnginePermissionDenied, EngineUnreachable, SettingsError

CONNECT_TIMEOUT = 10
#: What the host's ``docker`` says when its user may not use the engine's socket.
DOCKER_PERMISSION = "permission denied while trying to connect to the docker"
NO_DOCKER = 127
#: One round trip on first contact: the engine's version (which proves docker works for
#: that user), the user's home, and the engine's endpoint as the host's ``docker`` picks
#: it (``DOCKER_HOST``, its context), one a line. An old ``docker`` without contexts
#: prints no endpoint, and the engine is then reached through ``dial-stdio``.
CHECK_SCRIPT = (
    "command -v docker >/dev/null || exit 127; "
    "docker version -f '{{.Server.Version}}' || exit; "
    "printf '%s\\n' \"$HOME\"; "
    "docker context inspect -f '{{.Endpoints.docker.Host}}' 2>/dev/null || echo"
)


@dataclass(frozen=True)
class SshAddress:
    """``ssh://user@host:port`` taken apart; user and port may be left to ssh's config."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SshAddress:
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/"):
            raise SettingsError(f"--host {url!r}: expected ssh://[user@]host[:port]")
        try:
            port = parts.port
        except ValueError:
            raise SettingsError(f"--host {url!r}: the port is not a number") from None
        return cls(parts.hostname, parts.username, port)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.host}{port}"


class SshHost:
    """One lab machine over SSH: its engine, files, commands and web port, until closed."""

    def __init__(
        self,
        address: SshAddress,
        *,
        identity_file: Path | None = None,
        ssh_config: Path | None = None,
        accept_new_host_keys: bool = False,
        timeout: float = 30,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._dir = Path(tempfile.mkdtemp(prefix="grade-ssh-"))
        self.config = self._dir / "config"
        self.config.write_text(
            _config(self._dir, identity_file, ssh_config, accept_new_host_keys), "utf-8"
        )
        self._processes: list[subprocess.Popen[bytes]] = []
        self._bridge: _DialStdioBridge | None = None
        self._socket: str | None = None
        #: What :meth:`check` learnt: the user's home and the engine's endpoint there.
        self._home: PurePosixPath | None = None
        self._endpoint = ""

    # -- ssh itself ----------------------------------------------------------------
    def command(self, *remote: str, options: tuple[str, ...] = ()) -> list[str]:
        """The ``ssh`` command line that runs ``remote`` on the host."""
        args = [_ssh(), "-F", str(self.config), *options]
        if self.address.user:
            args += ["-l", self.address.user]
        if self.address.port:
            args += ["-p", str(self.address.port)]
        return [*args, "--", self.address.host, *remote]

    def check(self) -> str:
        """Connect once and ask the host's Docker for its version; one line on any failure.

        The same round trip learns the user's home and where the engine listens there.
        """
        try:
            done = subprocess.run(
                self.command(CHECK_SCRIPT),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise EngineUnreachable(
                f"{self.address} accepted the connection but did not answer within "
                f"{self.timeout:g} s"
            ) from None
        if done.returncode != 0:
            raise _failure(str(self.address), done.returncode, done.stderr)
        version, home, endpoint = [*done.stdout.split("\n"), "", "", ""][:3]
        if home.startswith("/"):
            self._home = PurePosixPath(home)
        self._endpoint = endpoint.strip()
        return version.strip()

    # -- what grading uses -----------------------------------------------------------
    def docker_socket(self) -> str:
        """A local Unix socket whose every connection reaches the host's engine.

        The engine's own socket forwarded by the master connection where :meth:`check`
        found one and it answers through the forward; else a ``dial-stdio`` bridge.
        """
        if self._socket is None:
            local = self._dir / "docker.sock"
            if not self._forward_engine(local):
                self._bridge = _DialStdioBridge(local, self.command("docker system dial-stdio"))
            self._socket = f"unix://{local}"
        return self._socket

    def _forward_engine(self, local: Path) -> bool:
        """Forward the host's engine socket to ``local``; False (and nothing left behind)
        when the engine is no Unix socket there or the forward does not reach it."""
        remote = _unix_socket_path(self._endpoint)
        if remote is None:
            return False
        spec = ("-L", f"{local}:{remote}")
        added = self._control("forward", *spec)
        if added and _engine_answers(local, self.timeout):
            return True
        if added:  # e.g. sshd's AllowStreamLocalForwarding no
            self._control("cancel", *spec)
        with contextlib.suppress(OSError):
            local.unlink()
        return False

    def _control(self, command: str, *spec: str) -> bool:
        """Ask the master connection to ``forward`` or ``cancel`` a forwarding; True when it did."""
        done = subprocess.run(
            self.command(options=("-O", command, *spec)),
            capture_output=True,
            timeout=self.timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return done.returncode == 0

    def forward(self, remote_port: int) -> int:
        """A local port that reaches ``localhost:remote_port`` on the host.

        The master connection carries it (``ssh -O forward``); where there is no master
        (a config that turns multiplexing off), a connection of its own does.
        """
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            local = int(probe.getsockname()[1])
        spec = ("-L", f"127.0.0.1:{local}:localhost:{remote_port}")
        if not self._control("forward", *spec):
            options = ("-N", "-o", "ExitOnForwardFailure=yes", "-o", "ControlPath=none", *spec)
            self._processes.append(
                subprocess.Popen(
                    self.command(options=options),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), 1):
                return local
            time.sleep(0.05)
        raise EngineUnreachable(f"cannot forward port {remote_port} of {self.address}")

    def testinfra_host(self) -> Any:
        """testinfra's SSH backend on the same master connection."""
        import testinfra

        address = self.address
        spec = f"ssh://{address.user + '@' if address.user else ''}{address.host}"
        spec += f":{address.port}" if address.port else ""
        return testinfra.get_host(spec, ssh_config=str(self.config), timeout=CONNECT_TIMEOUT)

    def home(self) -> PurePosixPath:
        """The remote user's home folder (where ``~/linux_tweet_app`` is)."""
        if self._home is not None:  # learnt by check()
            return self._home
        done = subprocess.run(
            self.command('printf %s "$HOME"'),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0 or not done.stdout.startswith("/"):
            raise _failure(str(self.address), done.returncode, done.stderr)
        return PurePosixPath(done.stdout)

    def close(self) -> None:
        """Stop the bridge, the forwards and the master connection; forget the folder."""
        if self._bridge is not None:
            self._bridge.close()
        for process in self._processes:
            process.terminate()
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                self.command(options=("-O", "exit")), capture_output=True, timeout=5, check=False
            )
        for process in self._processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)


def _ssh() -> str:
    found = shutil.which("ssh")
    if found is None:
        raise SettingsError("--host needs the ssh client (apt-get install openssh-client)")
    return found


def _config(
    folder: Path, identity_file: Path | None, ssh_config: Path | None, accept_new: bool
) -> str:
    """The run's own ssh config: our safety settings first (ssh takes the first value it
    reads), then the user's own config (``--ssh-config``, else ``~/.ssh/config``) and the
    system's, which ``-F`` would otherwise skip."""
    lines = [
        "Host *",
        "  BatchMode yes",
        f"  ConnectTimeout {CONNECT_TIMEOUT}",
        "  ServerAliveInterval 10",
        "  ServerAliveCountMax 3",
        f"  StrictHostKeyChecking {'accept-new' if accept_new else 'yes'}",
        "  ControlMaster auto",
        f"  ControlPath {folder}/%C",  # short: a socket's path has at most 107 bytes
        "  ControlPersist yes",
    ]
    if identity_file is not None:
        lines.append(f'  IdentityFile "{identity_file}"')
    user_config = ssh_config.resolve() if ssh_config is not None else "~/.ssh/config"
    lines += [f'  Include "{user_config}"', "  Include /etc/ssh/ssh_config", ""]
    return "\n".join(lines)


def _failure(where: str, code: int, stderr: str) -> EngineUnreachable | EnginePermissionDenied:
    """The one-line error for how ssh (or the host's docker) failed."""
    text = " ".join(stderr.split())
    lowered = text.lower()
    if DOCKER_PERMISSION in lowered:
        return EnginePermissionDenied(
            f"permission denied on the Docker engine of {where}: add that user to the docker "
            "group on the host (sudo usermod -aG docker USER), then grade again"
        )
    if code == NO_DOCKER or "command not found" in lowered:
        return EngineUnreachable(f"no Docker on {where}: the docker command is not installed")
    if "host key verification failed" in lowered or "no matching host key" in lowered:
        return EngineUnreachable(
            f"the host key of {where} is not known: check it and add it to known_hosts "
            "(ssh to it once), or pass --accept-new-host-keys"
        )
    if "permission denied" in lowered:
        return EnginePermissionDenied(f"{where} refused the SSH key: {_last(text)}")
    if "cannot connect to the docker daemon" in lowered:
        return EngineUnreachable(f"the Docker engine on {where} is not running: {_last(text)}")
    return EngineUnreachable(f"cannot reach {where} over SSH: {_last(text) or f'ssh exit {code}'}")


def _last(text: str) -> str:
    return text[-200:].strip()


def _unix_socket_path(endpoint: str) -> str | None:
    """The path of a ``unix://`` engine endpoint, None for any other kind."""
    path = endpoint.removeprefix("unix://")
    return path if endpoint.startswith("unix://") and path.startswith("/") else None


def _engine_answers(path: Path, timeout: float) -> bool:
    """True when a Docker engine answers ``/_ping`` on the Unix socket ``path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(path))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
    except OSError:
        return False
    return answer.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")) and answer.endswith(b"OK")


class _DialStdioBridge:
    """A local Unix socket; each connection to it is piped through one ``ssh ... docker
    system dial-stdio``, as docker-py's ssh transport does it."""

    def __init__(self, path: Path, command: list[str]) -> None:
        self.path = path
        self.command = command
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(16)
        self._children: list[subprocess.Popen[bytes]] = []
        self._closed = False
        threading.Thread(target=self._accept, name="ssh-bridge", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            child = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            self._children.append(child)
            assert child.stdin is not None and child.stdout is not None
            threading.Thread(target=_pump_in, args=(connection, child.stdin), daemon=True).start()
            threading.Thread(target=_pump_out, args=(child.stdout, connection), daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()
        for child in self._children:
            child.terminate()


def _pump_in(connection: socket.socket, sink: IO[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        while chunk := connection.recv(65536):
            sink.write(chunk)
            sink.flush()
    with contextlib.suppress(OSError, ValueError):
        sink.close()


def _pump_out(source: IO[bytes], connection: socket.socket) -> None:
    with contextlib.suppress(OSError, ValueError):
        while chunk := os.read(source.fileno(), 65536):  # what arrived, without waiting for more
            connection.sendall(chunk)
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
    connection.close()
