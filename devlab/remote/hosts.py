"""What the remote lab hosts are, and where their files live: a plan, which builds nothing.

Two engine hosts (``complete`` and ``spoiled``), each a network namespace with its own
``dockerd`` and ``sshd``, and the accounts and ports that make the other six hosts: the
ways a batch run meets a machine it cannot grade.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devlab.model_student import DOCKERID

STATE_DIR = Path(os.environ.get("GRADE_TEST_HOSTS_DIR", "/var/lib/grade-test-hosts"))
RUN_DIR = Path(os.environ.get("GRADE_TEST_HOSTS_RUN", "/run/grade-test-hosts"))
#: Only the suite's own veth pairs live here; the host forwards and masquerades it.
SUBNET = "10.231.0.0/16"
SSH_PORT = 2222
#: On the complete host's address: nothing listens on the first, the stall listener on the second.
UNREACHABLE_PORT = 2223
STALL_PORT = 2224
#: Bump to redo every host's lab when what is done there changes in a way no stamp shows.
RECIPE_VERSION = "1"
#: Redo step 1.2 when this many engine events came after it: the engine keeps only 256.
HISTORY_MARGIN = 120
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USER_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/games"  # what sshd gives a user's commands
NO_DOCKER_BIN = STATE_DIR / "no-docker-bin"
#: First on the PATH of the user whose ``docker`` hangs: a ``docker`` that only sleeps.
HANGING_BIN = STATE_DIR / "hanging-docker-bin"
#: How long that ``docker`` sleeps: longer than any test waits, short enough to leave nothing.
HANG_SECONDS = 120
STALL_MARKER = "grade-test-hosts-stall"


class RemoteHostError(RuntimeError):
    """A remote lab host could not be built or reached; the message names what failed."""


@dataclass(frozen=True)
class Spoiler:
    """One lab step done wrong on a host, the commands that do and undo it, and what fails."""

    name: str
    spoil: str
    restore: str
    fails: frozenset[str]
    restarts_mysql: bool = False


SPOILERS: dict[str, Spoiler] = {
    "mydb_stopped": Spoiler(
        "mydb_stopped",
        spoil="docker container stop mydb",
        restore="docker container start mydb",
        fails=frozenset({"mydb.running", "mydb.version"}),
        restarts_mysql=True,
    ),
}


@dataclass(frozen=True)
class RemoteHost:
    """What a TA knows of a lab machine: where to ssh, as whom, with which key, and its engine.

    ``docker_host`` is the engine's local socket (what the host's sshd sets as ``DOCKER_HOST``
    for its users), for a test to inspect or compare; ``None`` where no sshd answers at all.
    ``failing_checks`` are what grading that engine fails; ``fails_with`` is what plain ``ssh``
    says on a host that cannot be graded.
    """

    name: str
    address: str
    port: int
    user: str
    home: Path
    identity_file: Path
    known_hosts: Path
    ssh_config: Path
    netns: str
    docker_host: str | None
    dockerid: str = DOCKERID
    spoilers: tuple[str, ...] = ()
    failing_checks: frozenset[str] = frozenset()
    fails_with: str | None = None
    path: str = USER_PATH

    def ssh_url(self) -> str:
        return f"ssh://{self.user}@{self.address}:{self.port}"

    @property
    def netns_path(self) -> Path:
        return Path("/run/netns") / self.netns

    def ssh_command(self, *remote: str, options: tuple[str, ...] = ()) -> list[str]:
        """``ssh -F <the suite's config> -p PORT user@address REMOTE...``, as a TA would type it."""
        return [
            "ssh",
            "-F",
            str(self.ssh_config),
            *options,
            "-p",
            str(self.port),
            f"{self.user}@{self.address}",
            *remote,
        ]


@dataclass(frozen=True)
class RemoteHosts:
    """Every kind of host a batch run meets: two good engines and six ways to fail."""

    complete: RemoteHost
    spoiled: RemoteHost
    refused: RemoteHost
    no_permission: RemoteHost
    no_docker: RemoteHost
    unreachable: RemoteHost
    stalls: RemoteHost
    hangs: RemoteHost

    def __iter__(self) -> Iterator[RemoteHost]:
        return iter(
            (
                self.complete,
                self.spoiled,
                self.refused,
                self.no_permission,
                self.no_docker,
                self.unreachable,
                self.stalls,
                self.hangs,
            )
        )

    @property
    def ssh_config(self) -> Path:
        return self.complete.ssh_config

    @property
    def known_hosts(self) -> Path:
        return self.complete.known_hosts

    @property
    def identity_file(self) -> Path:
        return self.complete.identity_file


@dataclass(frozen=True)
class _UserSpec:
    """A real account on a host: its groups, whether it holds the suite's key, its PATH."""

    name: str
    groups: tuple[str, ...]
    suite_key: bool = True
    path: str = USER_PATH

    @property
    def home(self) -> Path:
        return STATE_DIR / "home" / self.name


@dataclass(frozen=True)
class _EngineSpec:
    """One namespace with its own dockerd and sshd; ``users`` log in through that sshd."""

    name: str
    index: int
    spoilers: tuple[str, ...] = ()
    extra_users: tuple[_UserSpec, ...] = ()

    @property
    def netns(self) -> str:
        return f"grade-{self.name}"

    @property
    def address(self) -> str:
        return f"10.231.{self.index}.2"

    @property
    def gateway(self) -> str:
        return f"10.231.{self.index}.1"

    @property
    def veth(self) -> str:
        return f"gth-{self.name}"[:15]

    @property
    def group(self) -> str:
        return f"grade-docker-{self.name}"

    @property
    def owner(self) -> _UserSpec:
        return _UserSpec(f"grade-{self.name}", (self.group,))

    @property
    def users(self) -> tuple[_UserSpec, ...]:
        return (self.owner, *self.extra_users)

    @property
    def run_dir(self) -> Path:
        return RUN_DIR / self.name

    @property
    def state_dir(self) -> Path:
        return STATE_DIR / self.name

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def data_root(self) -> Path:
        return self.state_dir / "docker"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"


IDENTITY_FILE = STATE_DIR / "id_ed25519"
OTHER_KEY = STATE_DIR / "other_id_ed25519"  # the only key the refused user accepts
KNOWN_HOSTS = STATE_DIR / "known_hosts"
SSH_CONFIG = STATE_DIR / "ssh_config"
STALL_PIDFILE = RUN_DIR / "stall.pid"

# The bad users log in to the complete host's sshd: refused holds another key, no_permission
# is not in the socket's group, no_docker has a PATH without docker.
_COMPLETE_GROUP = _EngineSpec("complete", 1).group
REFUSED = _UserSpec("grade-refused", (_COMPLETE_GROUP,), suite_key=False)
NO_PERMISSION = _UserSpec("grade-no-permission", ())
NO_DOCKER = _UserSpec("grade-no-docker", (_COMPLETE_GROUP,), path=str(NO_DOCKER_BIN))
# hangs logs in (its master connection is up) and then its docker never answers.
HANGS = _UserSpec("grade-hangs", (_COMPLETE_GROUP,), path=f"{HANGING_BIN}:{USER_PATH}")
COMPLETE = _EngineSpec("complete", 1, extra_users=(REFUSED, NO_PERMISSION, NO_DOCKER, HANGS))
SPOILED = _EngineSpec("spoiled", 2, spoilers=("mydb_stopped",))
ENGINES = (COMPLETE, SPOILED)


def planned_hosts() -> RemoteHosts:
    """The hosts as :func:`ensure_remote_hosts` builds them; builds nothing itself."""

    def host(spec: _EngineSpec, user: _UserSpec, **overrides: Any) -> RemoteHost:
        fails: frozenset[str] = frozenset().union(*(SPOILERS[s].fails for s in spec.spoilers))
        fields: dict[str, Any] = {
            "name": spec.name,
            "address": spec.address,
            "port": SSH_PORT,
            "user": user.name,
            "home": user.home,
            "identity_file": IDENTITY_FILE,
            "known_hosts": KNOWN_HOSTS,
            "ssh_config": SSH_CONFIG,
            "netns": spec.netns,
            "docker_host": spec.docker_host,
            "spoilers": spec.spoilers,
            "failing_checks": fails,
            "path": user.path,
        }
        fields.update(overrides)
        return RemoteHost(**fields)

    return RemoteHosts(
        complete=host(COMPLETE, COMPLETE.owner),
        spoiled=host(SPOILED, SPOILED.owner),
        refused=host(COMPLETE, REFUSED, name="refused", fails_with="Permission denied (publickey"),
        no_permission=host(
            COMPLETE,
            NO_PERMISSION,
            name="no_permission",
            fails_with="permission denied while trying to connect to the Docker daemon socket",
        ),
        no_docker=host(
            COMPLETE, NO_DOCKER, name="no_docker", fails_with="docker: command not found"
        ),
        unreachable=host(
            COMPLETE,
            COMPLETE.owner,
            name="unreachable",
            port=UNREACHABLE_PORT,
            docker_host=None,
            fails_with="Connection refused",
        ),
        stalls=host(
            COMPLETE,
            COMPLETE.owner,
            name="stalls",
            port=STALL_PORT,
            docker_host=None,
            fails_with="Connection timed out during banner exchange",
        ),
        hangs=host(COMPLETE, HANGS, name="hangs"),
    )
