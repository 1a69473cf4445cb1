"""Remote lab hosts on this machine, for grading over SSH (issue 8): ``grade --host ssh://...``.

A course's lab VM is a Docker engine, an sshd and a student's account. Each host here is the
same on this machine: a network namespace of its own (a veth address in ``10.231.0.0/16``), an
extra ``dockerd`` in it (own data-root, exec-root, socket, pidfile and bridge), an ``sshd`` in
it listening on that address, and a real Linux user whose home holds the model student's lab.
The namespace is what lets every engine publish its own port 80. ``dockerd`` is started with
``nsenter --net``, never ``ip netns exec``: that remounts ``/sys`` and dockerd then fails with
"Devices cgroup isn't mounted".

Hosts are built once and reused while the machine lives: a warm :func:`ensure_remote_hosts`
checks that each piece runs and is healthy and rebuilds only what is not (seconds when all is
up). Keys, ``known_hosts``, ``ssh_config``, homes and data-roots live under :data:`STATE_DIR`;
sockets, pidfiles, logs and the stamps of done labs under :data:`RUN_DIR`. Nothing here touches
the main engine but to read its stand-in images, and no packet leaves this machine but the
engines' own (the lab's ``apt-get`` in an ubuntu container), masqueraded like Docker's own.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import grp
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

from devlab.engine import ensure_engine
from devlab.host import flood_events, reset_lab
from devlab.model_student import (
    DOCKERID,
    HELLO_DOCKERFILE,
    HELLO_INDEX_JS,
    TWEET_DOCKERFILE,
    TWEET_INDEX_HTML,
    ModelStudent,
)
from devlab.standins import STANDINS, ensure_standins

log = logging.getLogger("devlab.remote_hosts")

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


# ---------------------------------------------------------------------------- the hosts


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


# ---------------------------------------------------------------------------- layout


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


# ---------------------------------------------------------------------------- small tools


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


# ---------------------------------------------------------------------------- machine-wide


def _require_root_and_tools() -> None:
    if os.geteuid() != 0:
        raise RemoteHostError("remote lab hosts need root (namespaces, users, dockerd, sshd)")
    wanted = {
        "sshd": "openssh-server",
        "ssh": "openssh-client",
        "ssh-keygen": "openssh-client",
        "ip": "iproute2",
        "iptables": "iptables",
        "nsenter": "util-linux",
        "setsid": "util-linux",
        "runuser": "util-linux",
        "dockerd": "docker.io",
        "docker": "docker.io",
        "curl": "curl",
    }
    missing = {pkg for tool, pkg in wanted.items() if shutil.which(tool, path=SYSTEM_PATH) is None}
    if missing:
        raise RemoteHostError(
            f"missing Debian packages for the remote lab hosts: {', '.join(sorted(missing))} "
            "(run bash scripts/setup; scripts/apt-packages.txt lists them)"
        )


def _ensure_key(path: Path, comment: str) -> None:
    if path.exists() and path.with_suffix(".pub").exists():
        return
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    _run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        f"generating {path}",
    )


def _ensure_keys() -> None:
    STATE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    STATE_DIR.chmod(0o755)
    _ensure_key(IDENTITY_FILE, "grade-test-hosts suite key")
    _ensure_key(OTHER_KEY, "grade-test-hosts key the suite does not hold")
    for spec in ENGINES:
        spec.state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        _ensure_key(spec.state_dir / "ssh_host_ed25519_key", f"{spec.netns} host key")


def _ensure_group(name: str) -> None:
    try:
        grp.getgrnam(name)
    except KeyError:
        _run(["groupadd", "--system", name], f"creating group {name}")


def _shadow_password(user: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/etc/shadow").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == user:
                return fields[1]
    return None


def _ensure_user(user: _UserSpec, authorized_key: Path) -> None:
    """A real account: bash, its home, the groups it should have, and one authorized key.

    Its password is ``*`` (no password login), not ``!``: sshd without PAM refuses even key
    logins to an account whose password field says locked.
    """
    user.home.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    try:
        entry = pwd.getpwnam(user.name)
    except KeyError:
        cmd = ["useradd", "--create-home", "--home-dir", str(user.home), "--shell", "/bin/bash"]
        cmd += ["--user-group", "--password", "*"]
        if user.groups:
            cmd += ["--groups", ",".join(user.groups)]
        _run([*cmd, user.name], f"creating user {user.name}")
        entry = pwd.getpwnam(user.name)
    groups = {g.gr_name for g in grp.getgrall() if user.name in g.gr_mem}
    if (
        entry.pw_dir != str(user.home)
        or entry.pw_shell != "/bin/bash"
        or groups != set(user.groups)
        or _shadow_password(user.name) != "*"
    ):
        _run(
            [
                "usermod", "--home", str(user.home), "--shell", "/bin/bash", "--password", "*",
                "--groups", ",".join(user.groups), user.name,
            ],
            f"fixing user {user.name}",
        )  # fmt: skip
    uid, gid = entry.pw_uid, entry.pw_gid
    if not user.home.is_dir():
        user.home.mkdir(mode=0o755)
        os.chown(user.home, uid, gid)
    ssh_dir = user.home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    keys = ssh_dir / "authorized_keys"
    wanted = authorized_key.with_suffix(".pub").read_text()
    if not keys.exists() or keys.read_text() != wanted:
        keys.write_text(wanted)
    for path, mode in ((user.home, 0o755), (ssh_dir, 0o700), (keys, 0o600)):
        path.chmod(mode)
        os.chown(path, uid, gid)


def _ensure_accounts() -> None:
    for spec in ENGINES:
        _ensure_group(spec.group)
    for spec in ENGINES:
        for user in spec.users:
            _ensure_user(user, IDENTITY_FILE if user.suite_key else OTHER_KEY)


def _ensure_no_docker_bin() -> None:
    """A PATH with every command of /usr/bin and /bin but ``docker``: a machine without Docker."""
    NO_DOCKER_BIN.mkdir(mode=0o755, parents=True, exist_ok=True)
    wanted: dict[str, str] = {}
    for folder in ("/usr/local/bin", "/usr/bin"):
        with contextlib.suppress(OSError):
            for name in os.listdir(folder):
                if not name.startswith("docker"):
                    wanted.setdefault(name, f"{folder}/{name}")
    for entry in os.scandir(NO_DOCKER_BIN):
        if not entry.is_symlink() or os.readlink(entry.path) != wanted.get(entry.name):
            os.unlink(entry.path)
    for name, target in wanted.items():
        link = NO_DOCKER_BIN / name
        if not link.is_symlink():
            link.symlink_to(target)


def _ensure_hanging_bin() -> None:
    """A folder whose ``docker`` sleeps: a host that logs in and then never answers."""
    HANGING_BIN.mkdir(mode=0o755, parents=True, exist_ok=True)
    docker = HANGING_BIN / "docker"
    wanted = f"#!/bin/sh\nexec sleep {HANG_SECONDS}\n"
    if not docker.exists() or docker.read_text() != wanted:
        docker.write_text(wanted)
    docker.chmod(0o755)


def ensure_host_firewall(subnet: str = SUBNET) -> None:
    """Forward and masquerade a range of the suite's namespaces, as Docker does for its own
    bridge (the remote hosts' here, the Podman lab's in :mod:`devlab.podman`).

    Docker's FORWARD policy is DROP; ``DOCKER-USER`` is the chain it leaves to the admin.
    """
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    rules = [
        ("filter", "DOCKER-USER", ["-s", subnet, "-j", "ACCEPT"]),
        ("filter", "DOCKER-USER", ["-d", subnet, "-j", "ACCEPT"]),
        ("nat", "POSTROUTING", ["-s", subnet, "!", "-d", subnet, "-j", "MASQUERADE"]),
    ]
    for table, chain, rule in rules:
        if _run(["iptables", "-t", table, "-n", "-L", chain], "iptables", check=False).returncode:
            _run(["iptables", "-t", table, "-N", chain], f"creating iptables chain {chain}")
        probe = ["iptables", "-t", table, "-C", chain, *rule]
        if _run(probe, "iptables", check=False).returncode != 0:
            _run(["iptables", "-t", table, "-I", chain, "1", *rule], f"adding {' '.join(rule)}")


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


# ---------------------------------------------------------------------------- one engine host


def _netns_ok(spec: _EngineSpec) -> bool:
    if not Path(f"/run/netns/{spec.netns}").exists():
        return False
    inside = _run(
        ["ip", "-n", spec.netns, "-4", "-o", "addr", "show", "dev", "eth0", "up"],
        "ip",
        check=False,
    )
    outside = _run(["ip", "-4", "-o", "addr", "show", "dev", spec.veth, "up"], "ip", check=False)
    return f" {spec.address}/24 " in inside.stdout and f" {spec.gateway}/24 " in outside.stdout


def _ensure_netns(spec: _EngineSpec) -> bool:
    """The namespace with its veth pair up and routed; True if it had to be (re)made."""
    if _netns_ok(spec):
        return False
    _stop_processes(spec)
    _run(["ip", "netns", "delete", spec.netns], "ip", check=False)
    _run(["ip", "link", "delete", spec.veth], "ip", check=False)
    what = f"making netns {spec.netns}"
    _run(["ip", "netns", "add", spec.netns], what)
    _run(["ip", "link", "add", spec.veth, "type", "veth", "peer", "name", "eth0",
          "netns", spec.netns], what)  # fmt: skip
    _run(["ip", "addr", "add", f"{spec.gateway}/24", "dev", spec.veth], what)
    _run(["ip", "link", "set", spec.veth, "up"], what)
    for cmd in (
        ["addr", "add", f"{spec.address}/24", "dev", "eth0"],
        ["link", "set", "eth0", "up"],
        ["link", "set", "lo", "up"],
        ["route", "add", "default", "via", spec.gateway],
    ):
        _run(["ip", "-n", spec.netns, *cmd], what)
    return True


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


def _stamp_path(spec: _EngineSpec) -> Path:
    return spec.run_dir / "lab.json"


def _stamp(spec: _EngineSpec, client: docker.DockerClient, ids: dict[str, str]) -> dict[str, Any]:
    """What the done lab depends on: this engine process, its images, the recipe, the spoilers."""
    pid = _read_pid(spec.run_dir / "dockerd.pid") or 0
    info = _proc(pid)
    return {
        "recipe": RECIPE_VERSION,
        "engine": client.info()["ID"],
        "dockerd": [pid, info[1] if info else 0],
        "standins": ids,
        "spoilers": list(spec.spoilers),
    }


def _home_files(user: _UserSpec) -> dict[Path, str]:
    """The files the model student leaves in the home, as the checks read them."""
    return {
        user.home / "linux_tweet_app" / "Dockerfile": TWEET_DOCKERFILE,
        user.home / "linux_tweet_app" / "index.html": TWEET_INDEX_HTML,
        user.home / "hello" / "Dockerfile": HELLO_DOCKERFILE,
        user.home / "hello" / "index.js": HELLO_INDEX_JS,
    }


def _lab_intact(spec: _EngineSpec, client: docker.DockerClient) -> bool:
    """The lab's containers, images and files are as the model student (and spoilers) left them."""
    states = {
        c["Names"][0].lstrip("/"): c["State"] for c in client.api.containers(all=True) if c["Names"]
    }
    mydb = "exited" if "mydb_stopped" in spec.spoilers else "running"
    if states.get("mydb") != mydb or states.get("linux_tweet_app") != "running":
        return False
    tags = {tag for image in client.api.images() for tag in image.get("RepoTags") or ()}
    wanted_tags = {f"{DOCKERID}/linux_tweet_app:1.0", "ourfiglet:latest", "hello:v0.1"}
    if not wanted_tags <= tags:
        return False
    for path, text in _home_files(spec.owner).items():
        try:
            if path.read_text() != text:
                return False
        except OSError:
            return False
    return True


def _student(spec: _EngineSpec) -> ModelStudent:
    return ModelStudent(spec.owner.home, docker_host=spec.docker_host)


def _chown_home(user: _UserSpec) -> None:
    _run(["chown", "-R", f"{user.name}:{user.name}", str(user.home)], f"chown of {user.home}")


def _clear_home(user: _UserSpec) -> None:
    for name in ("linux_tweet_app", "hello", ".docker"):
        shutil.rmtree(user.home / name, ignore_errors=True)


def _do_lab(spec: _EngineSpec, client: docker.DockerClient, ids: dict[str, str]) -> None:
    """Reset this engine and home, then the model student's whole lab, then the spoilers."""
    started = time.monotonic()
    _stamp_path(spec).unlink(missing_ok=True)
    reset_lab(client)
    _clear_home(spec.owner)
    student = _student(spec)
    try:
        student.do_the_lab()
        for name in spec.spoilers:
            student.sh(SPOILERS[name].spoil)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        raise RemoteHostError(
            f"the model student's lab in netns {spec.netns} failed: {exc}"
        ) from exc
    _chown_home(spec.owner)
    stamp = {**_stamp(spec, client, ids), "interactive_run_at": student.interactive_run_at}
    _stamp_path(spec).write_text(json.dumps(stamp))
    log.info("%s: the model student's lab: %.1f s", spec.netns, time.monotonic() - started)


def _events_since(client: docker.DockerClient, since: float) -> int:
    return len(list(client.api.events(since=f"{since:.9f}", until=f"{time.time():.9f}")))


def _keep_history(
    spec: _EngineSpec, client: docker.DockerClient, stamp: dict[str, Any], margin: int
) -> None:
    """Redo step 1.2 before grading pushes its events out of the engine's short history."""
    if _events_since(client, float(stamp["interactive_run_at"])) <= margin:
        return
    student = _student(spec)
    student.step_1_2()
    _chown_home(spec.owner)
    stamp["interactive_run_at"] = student.interactive_run_at
    _stamp_path(spec).write_text(json.dumps(stamp))


def _ensure_lab(spec: _EngineSpec, ids: dict[str, str]) -> None:
    client = _client(spec, timeout=120)
    try:
        try:
            stamp = json.loads(_stamp_path(spec).read_text())
        except (OSError, ValueError):
            stamp = {}
        current = _stamp(spec, client, ids)
        if all(stamp.get(k) == v for k, v in current.items()) and _lab_intact(spec, client):
            _keep_history(spec, client, stamp, HISTORY_MARGIN)
        else:
            _do_lab(spec, client, ids)
    finally:
        client.close()


def _sshd_config(spec: _EngineSpec) -> str:
    environment = f"DOCKER_HOST={spec.docker_host} DOCKERID={DOCKERID}"
    lines = [
        "# Written by devlab/remote_hosts.py: a lab machine's sshd, keys only.",
        f"ListenAddress {spec.address}:{SSH_PORT}",
        f"HostKey {spec.state_dir / 'ssh_host_ed25519_key'}",
        f"PidFile {spec.run_dir / 'sshd.pid'}",
        "AuthorizedKeysFile .ssh/authorized_keys",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin no",
        f"AllowUsers {' '.join(u.name for u in spec.users)}",
        "AllowTcpForwarding yes",
        "AllowStreamLocalForwarding yes",
        "X11Forwarding no",
        "PrintMotd no",
        # A batch run opens many connections at once; sshd's default drops some from 10 on.
        "MaxStartups 200:30:400",
        "MaxSessions 100",
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
        f"SetEnv {environment}",
    ]
    for user in spec.users:
        if user.path != USER_PATH:  # a Match block's SetEnv replaces the one above
            lines += [f"Match User {user.name}", f"    SetEnv {environment} PATH={user.path}"]
    return "\n".join(lines) + "\n"


def _sshd_healthy(spec: _EngineSpec, config: Path) -> bool:
    if _running(spec.run_dir / "sshd.pid", "sshd", spec.netns) is None:
        return False
    banner = _banner(spec.address, SSH_PORT)
    return bool(banner and banner.startswith(b"SSH-2.0-"))


def _ensure_sshd(spec: _EngineSpec) -> None:
    config = spec.state_dir / "sshd_config"
    text = _sshd_config(spec)
    changed = not config.exists() or config.read_text() != text
    if changed:
        config.write_text(text)
    if not changed and _sshd_healthy(spec, config):
        return
    _stop(_sshd_pid(spec))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    log = spec.run_dir / "sshd.log"
    spec.run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    sshd = shutil.which("sshd", path=SYSTEM_PATH) or "/usr/sbin/sshd"
    started = _run(
        [
            "nsenter",
            f"--net=/run/netns/{spec.netns}",
            "--",
            sshd,
            "-f",
            str(config),
            "-E",
            str(log),
        ],
        "sshd",
        check=False,
    )  # fmt: skip  (sshd forks itself; it exits non-zero at once on a bad config)
    if started.returncode != 0 or not _wait(lambda: _sshd_healthy(spec, config), 10):
        raise RemoteHostError(
            f"sshd in netns {spec.netns} did not start ({started.stderr.strip()}); "
            f"last lines of {log}:\n{_tail(log)}"
        )


def _stop_processes(spec: _EngineSpec) -> None:
    _stop(_sshd_pid(spec))
    _stop(_dockerd_pid(spec))
    if spec is COMPLETE:
        _stop(_stall_pid())


def _ensure_engine_host(spec: _EngineSpec, tarball: Path, ids: dict[str, str]) -> None:
    _ensure_netns(spec)
    _ensure_dockerd(spec)
    _ensure_images(spec, tarball, ids)
    _ensure_lab(spec, ids)
    _ensure_sshd(spec)


# ---------------------------------------------------------------------------- client side


def _client_files(hosts: RemoteHosts) -> None:
    """known_hosts with each sshd's key, and an ssh_config that uses only the suite's files."""
    known = []
    for spec in ENGINES:
        key = (spec.state_dir / "ssh_host_ed25519_key.pub").read_text().split()
        known.append(f"[{spec.address}]:{SSH_PORT} {key[0]} {key[1]}\n")
    lines = ["# Written by devlab/remote_hosts.py: the suite's key and known_hosts only."]
    for host in hosts:
        lines += [
            f"Host grade-{host.name.replace('_', '-')}",
            f"    HostName {host.address}",
            f"    Port {host.port}",
            f"    User {host.user}",
        ]
    lines += [
        "Host *",
        f"    IdentityFile {IDENTITY_FILE}",
        "    IdentitiesOnly yes",
        f"    UserKnownHostsFile {KNOWN_HOSTS}",
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    UpdateHostKeys no",
        "    BatchMode yes",
        "    PasswordAuthentication no",
        "    KbdInteractiveAuthentication no",
    ]
    for path, text in ((KNOWN_HOSTS, "".join(known)), (SSH_CONFIG, "\n".join(lines) + "\n")):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        path.chmod(0o644)
    IDENTITY_FILE.chmod(0o600)


STALL_SCRIPT = f"""
# {STALL_MARKER}: accept SSH connections and never answer them
import selectors, socket, sys
server = socket.create_server((sys.argv[1], int(sys.argv[2])), backlog=256)
sel = selectors.DefaultSelector()
sel.register(server, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is server:
            conn, _ = server.accept()
            sel.register(conn, selectors.EVENT_READ)
            continue
        try:
            data = key.fileobj.recv(4096)
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
"""


def _stall_pid() -> int | None:
    return _our_pid(STALL_PIDFILE, STALL_MARKER)


def _ensure_stall_listener(host: RemoteHost) -> None:
    """A TCP listener on the stalls host's port that accepts and never says a word."""

    def silent() -> bool:
        return _banner(host.address, host.port, 0.3) == b""

    pid = _stall_pid()
    if pid is not None and _in_netns(pid, host.netns) and silent():
        return
    _stop(pid)
    log = RUN_DIR / "stall.log"
    python = os.path.realpath(sys.executable)
    pid = _detach(
        ["nsenter", f"--net={host.netns_path}", "--", python, "-c", STALL_SCRIPT,
         host.address, str(host.port)],
        log,
        {"PATH": SYSTEM_PATH},
    )  # fmt: skip
    STALL_PIDFILE.write_text(f"{pid}\n")
    _wait(lambda: _proc(pid) is None or silent(), 10)
    if not silent():
        _stop(pid)
        raise RemoteHostError(
            f"the stall listener on {host.address}:{host.port} did not start; {log}:\n{_tail(log)}"
        )


# ---------------------------------------------------------------------------- the API


def ensure_remote_hosts() -> RemoteHosts:
    """Build what is missing or unhealthy, reuse the rest, and return the hosts.

    Needs root and the main engine (for its stand-in images). Cold: two engines with the
    lab done, in parallel; warm: a few health checks.
    """
    _require_root_and_tools()
    ensure_engine()
    main = docker.from_env()
    try:
        ensure_standins(main)
        hosts = planned_hosts()
        with _lock():
            _ensure_keys()
            _ensure_accounts()
            _ensure_no_docker_bin()
            _ensure_hanging_bin()
            ensure_host_firewall()
            tarball, ids = _standins_tarball(main)
            with ThreadPoolExecutor(len(ENGINES)) as pool:
                futures = [pool.submit(_ensure_engine_host, s, tarball, ids) for s in ENGINES]
                for future in futures:
                    future.result()
            _client_files(hosts)
            _ensure_stall_listener(hosts.stalls)
    finally:
        main.close()
    return hosts


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


def teardown(*, purge: bool = False) -> None:
    """Stop every host's processes and delete its namespace; ``purge`` also its files and users."""
    with _lock():
        _stop(_stall_pid())
        STALL_PIDFILE.unlink(missing_ok=True)
        for spec in ENGINES:
            _stop_processes(spec)
            _unmount_under(spec.exec_root, spec.data_root)
            _run(["ip", "netns", "delete", spec.netns], "ip", check=False)
            _run(["ip", "link", "delete", spec.veth], "ip", check=False)
            shutil.rmtree(spec.run_dir, ignore_errors=True)
        if purge:
            for spec in ENGINES:
                for user in spec.users:
                    _run(["userdel", "--remove", user.name], "userdel", check=False)
            for spec in ENGINES:
                _run(["groupdel", spec.group], "groupdel", check=False)
            shutil.rmtree(STATE_DIR, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m devlab.remote_hosts [--down | --purge]``: build (or stop) and list them."""
    parser = argparse.ArgumentParser(prog="python -m devlab.remote_hosts")
    parser.add_argument("--down", action="store_true", help="stop the hosts, keep their files")
    parser.add_argument("--purge", action="store_true", help="stop them and delete everything")
    options = parser.parse_args(argv)
    try:
        logging.basicConfig(level=logging.INFO, format="remote hosts: %(message)s")
        if options.down or options.purge:
            teardown(purge=options.purge)
            return 0
        started = time.monotonic()
        hosts = ensure_remote_hosts()
    except (RemoteHostError, subprocess.SubprocessError) as exc:
        print(f"remote hosts: {exc}", file=sys.stderr)
        return 1
    for host in hosts:
        print(json.dumps({**asdict(host), "ssh_url": host.ssh_url()}, default=str))
    print(f"remote hosts: ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
