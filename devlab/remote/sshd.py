"""The SSH side: each engine host's ``sshd`` (keys only, ``DOCKER_HOST`` set for its users),
the client's ``known_hosts`` and ``ssh_config``, and the listener that never answers.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from devlab.model_student import DOCKERID
from devlab.remote.hosts import (
    ENGINES,
    IDENTITY_FILE,
    KNOWN_HOSTS,
    RUN_DIR,
    SSH_CONFIG,
    SSH_PORT,
    STALL_MARKER,
    STALL_PIDFILE,
    SYSTEM_PATH,
    USER_PATH,
    RemoteHost,
    RemoteHostError,
    RemoteHosts,
    _EngineSpec,
)
from devlab.remote.processes import (
    _banner,
    _detach,
    _in_netns,
    _proc,
    _run,
    _running,
    _sshd_pid,
    _stall_pid,
    _stop,
    _tail,
    _wait,
)


def _sshd_config(spec: _EngineSpec) -> str:
    environment = f"DOCKER_HOST={spec.docker_host} DOCKERID={DOCKERID}"
    lines = [
        "# Written by devlab/remote/sshd.py: a lab machine's sshd, keys only.",
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


def _client_files(hosts: RemoteHosts) -> None:
    """known_hosts with each sshd's key, and an ssh_config that uses only the suite's files."""
    known = []
    for spec in ENGINES:
        key = (spec.state_dir / "ssh_host_ed25519_key.pub").read_text().split()
        known.append(f"[{spec.address}]:{SSH_PORT} {key[0]} {key[1]}\n")
    lines = ["# Written by devlab/remote/sshd.py: the suite's key and known_hosts only."]
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
