"""Build the hosts, reusing what runs and is healthy, or take them down."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker

from devlab.engine import ensure_engine
from devlab.remote.accounts import (
    _ensure_accounts,
    _ensure_hanging_bin,
    _ensure_keys,
    _ensure_no_docker_bin,
    _require_root_and_tools,
)
from devlab.remote.dockerd import _ensure_dockerd, _ensure_images, _standins_tarball, _unmount_under
from devlab.remote.hosts import (
    ENGINES,
    STALL_PIDFILE,
    STATE_DIR,
    RemoteHosts,
    _EngineSpec,
    planned_hosts,
)
from devlab.remote.lab import _ensure_lab
from devlab.remote.network import _ensure_netns, ensure_host_firewall
from devlab.remote.processes import _lock, _run, _stall_pid, _stop, _stop_processes
from devlab.remote.sshd import _client_files, _ensure_sshd, _ensure_stall_listener
from devlab.standins import ensure_standins


def _ensure_engine_host(spec: _EngineSpec, tarball: Path, ids: dict[str, str]) -> None:
    _ensure_netns(spec)
    _ensure_dockerd(spec)
    _ensure_images(spec, tarball, ids)
    _ensure_lab(spec, ids)
    _ensure_sshd(spec)


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
