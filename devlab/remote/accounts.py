"""Machine-wide pieces: root and the tools, the suite's keys, the hosts' users and groups,
and the ``PATH`` folders of the users without ``docker`` and with one that hangs.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
from pathlib import Path

from devlab.remote.hosts import (
    ENGINES,
    HANG_SECONDS,
    HANGING_BIN,
    IDENTITY_FILE,
    NO_DOCKER_BIN,
    OTHER_KEY,
    STATE_DIR,
    SYSTEM_PATH,
    RemoteHostError,
    _UserSpec,
)
from devlab.remote.processes import _run


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
