"""Where grading looks: this machine, or a lab machine over SSH.

A target gives the checks the same things either way: a docker-py client of its
engine, its files (read in Python here, through testinfra's SSH backend there), a
testinfra host for commands (``docker exec`` runs on the target, with its own
``docker``), the user's home there (where ``~/linux_tweet_app`` is), and where a
browser on that machine would reach a published port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Protocol

import docker

from grader.errors import GradingError, SettingsError
from grader.settings import user_home
from grader.targets.connection import API_TIMEOUT, connect, engine_hostname, without_environment
from grader.targets.engine_choice import DEFAULT_CONTEXT, EngineChoice, choose_engine, parse_host
from grader.targets.ssh import SshAddress, SshHost


class Target(Protocol):
    #: How messages name the machine ("this machine", ``ada@lab-07``).
    name: str
    #: The engine graded: its context and endpoint, for the run's header and report.
    engine: EngineChoice

    def docker(self) -> docker.DockerClient: ...

    def host(self) -> Any:
        """A testinfra host: ``host.file(path)``, ``host.run(command)``."""
        ...

    def home(self) -> PurePosixPath: ...

    def read_file(self, path: PurePath) -> bytes | None:
        """A file's bytes, or None when it is not a file there."""
        ...

    def web(self, port: int) -> tuple[str, int]:
        """Where to connect to reach ``port`` as a browser on the target would."""
        ...

    def web_url(self, port: int) -> str:
        """That place as a student would type it, for messages."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TargetOptions:
    """Where to grade, as the command line says it.

    ``host`` is ``-H/--host`` as ``docker`` takes it: ``ssh://`` grades that machine
    over SSH (its engine, files and commands); ``unix://`` and ``tcp://`` are another
    engine of this machine's ``docker``; none is the engine ``docker`` would pick.
    """

    host: str | None = None
    identity_file: Path | None = None
    ssh_config: Path | None = None
    accept_new_host_keys: bool = False
    context: str | None = None

    @property
    def over_ssh(self) -> bool:
        return bool(self.host) and parse_host(self.host or "", "-H/--host").startswith("ssh://")

    def engine(self, environ: Mapping[str, str]) -> EngineChoice:
        """The engine to grade (see :mod:`grader.targets.engine_choice`); bad options raise."""
        if self.over_ssh and self.context:
            raise SettingsError("-H/--host and --context name an engine each: give one of them")
        if self.over_ssh:
            return EngineChoice(DEFAULT_CONTEXT, parse_host(self.host or "", "-H"), "-H/--host")
        chosen = choose_engine(
            environ=environ, home=user_home(environ), host=self.host, context=self.context
        )
        if not chosen.host.startswith("ssh://") and (self.identity_file or self.ssh_config):
            raise SettingsError("--identity-file and --ssh-config go with an ssh:// engine")
        return chosen

    def open(
        self, environ: Mapping[str, str], engine: EngineChoice | None = None
    ) -> tuple[Target | None, str]:
        """The target, or None and the one line saying why it cannot be graded.

        Bad options (a malformed ``--host``, a Docker context that does not exist)
        raise instead: that is the user's typo, not a machine that is down.
        """
        engine = engine or self.engine(environ)
        try:
            if not self.over_ssh:
                return LocalTarget(
                    environ,
                    engine,
                    identity_file=self.identity_file,
                    ssh_config=self.ssh_config,
                    accept_new_host_keys=self.accept_new_host_keys,
                ), ""
            return SshTarget(
                self.host or "",
                identity_file=self.identity_file,
                ssh_config=self.ssh_config,
                accept_new_host_keys=self.accept_new_host_keys,
            ), ""
        except SettingsError:
            raise
        except GradingError as exc:
            return None, str(exc)


class LocalTarget:
    """This machine: the engine the ``docker`` command uses, local files.

    That engine may be elsewhere (``DOCKER_HOST=ssh://...``, a context of a remote
    engine): the files a student built from are still here, and a published port
    is reached at the engine's host.
    """

    name = "this machine"

    def __init__(
        self,
        environ: Mapping[str, str],
        engine: EngineChoice | None = None,
        *,
        identity_file: Path | None = None,
        ssh_config: Path | None = None,
        accept_new_host_keys: bool = False,
    ) -> None:
        self.engine = engine or choose_engine(environ=environ, home=user_home(environ))
        self._ssh: SshHost | None = None
        if self.engine.host.startswith("ssh://"):  # as docker does: dial-stdio over ssh
            address = SshAddress.parse(self.engine.host)
            self._ssh, self._client = _engine_over(
                address,
                identity_file=identity_file,
                ssh_config=ssh_config,
                accept_new_host_keys=accept_new_host_keys,
            )
            self._web_host = address.host
        else:
            self._client = connect(self.engine)
            self._web_host = engine_hostname(self._client)

    def docker(self) -> docker.DockerClient:
        return self._client

    def host(self) -> Any:
        import testinfra  # here: grade starts probes before loading pytest and testinfra

        return testinfra.get_host("local://")

    def home(self) -> PurePosixPath:
        return PurePosixPath(Path.home())

    def read_file(self, path: PurePath) -> bytes | None:
        try:
            return Path(path).read_bytes()  # in Python: no shell, no cat, any platform
        except (IsADirectoryError, FileNotFoundError, NotADirectoryError):
            return None

    def web(self, port: int) -> tuple[str, int]:
        return self._web_host, port

    def web_url(self, port: int) -> str:
        return _url(self._web_host, port)

    def close(self) -> None:
        self._client.close()
        if self._ssh is not None:
            self._ssh.close()


def _engine_over(
    address: SshAddress,
    *,
    identity_file: Path | None,
    ssh_config: Path | None,
    accept_new_host_keys: bool,
) -> tuple[SshHost, docker.DockerClient]:
    """An SSH host, checked, and a client of its engine, answering; closed on failure."""
    ssh = SshHost(
        address,
        identity_file=identity_file,
        ssh_config=ssh_config,
        accept_new_host_keys=accept_new_host_keys,
    )
    try:
        ssh.check()
        client = docker.DockerClient(base_url=ssh.docker_socket(), timeout=API_TIMEOUT)
    except BaseException:
        ssh.close()
        raise
    return ssh, without_environment(client)


class SshTarget:
    """A lab machine over SSH (see :mod:`grader.targets.ssh`); checked on creation."""

    def __init__(
        self,
        url: str,
        *,
        identity_file: Path | None = None,
        ssh_config: Path | None = None,
        accept_new_host_keys: bool = False,
    ) -> None:
        address = SshAddress.parse(url)
        self.name = str(address)
        self.engine = EngineChoice(DEFAULT_CONTEXT, url, "-H/--host")
        self._ssh, self._client = _engine_over(
            address,
            identity_file=identity_file,
            ssh_config=ssh_config,
            accept_new_host_keys=accept_new_host_keys,
        )
        self._forwards: dict[int, int] = {}
        try:
            self._home = self._ssh.home()  # learnt by the check: no round trip
        except BaseException:
            self.close()
            raise

    def docker(self) -> docker.DockerClient:
        return self._client

    def host(self) -> Any:
        return self._ssh.testinfra_host()

    def home(self) -> PurePosixPath:
        return self._home

    def read_file(self, path: PurePath) -> bytes | None:
        file = self.host().file(str(path))
        return bytes(file.content) if file.is_file else None

    def web(self, port: int) -> tuple[str, int]:
        if port not in self._forwards:
            self._forwards[port] = self._ssh.forward(port)
        return "127.0.0.1", self._forwards[port]

    def web_url(self, port: int) -> str:
        return f"{_url('localhost', port)} on {self.name}"

    def close(self) -> None:
        self._client.close()
        self._ssh.close()


def _url(host: str, port: int) -> str:
    return f"http://{host}/" if port == 80 else f"http://{host}:{port}/"
