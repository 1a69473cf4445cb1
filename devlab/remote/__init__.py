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

The modules, one job each: ``hosts`` (what each host is; builds nothing), ``processes``
(finding, starting and stopping ours), ``accounts`` (keys, users, groups), ``network`` (the
namespaces), ``dockerd`` and ``sshd`` (each host's daemons), ``lab`` (the model student's lab
there), ``build`` (all of it, warm or cold) and ``actions`` (what a test does on a built host).
``python -m devlab.remote`` builds them and lists them.
"""

from devlab.remote.actions import (
    grade_locally,
    hosts_cpu_seconds,
    keep_history,
    redo_lab,
    reset_host_lab,
    restore,
    run_in_netns,
    spoil,
)
from devlab.remote.build import ensure_remote_hosts, teardown
from devlab.remote.hosts import (
    SPOILERS,
    RemoteHost,
    RemoteHostError,
    RemoteHosts,
    Spoiler,
    planned_hosts,
)
from devlab.remote.network import ensure_host_firewall
from devlab.remote.processes import engine_client

__all__ = [
    "SPOILERS",
    "RemoteHost",
    "RemoteHostError",
    "RemoteHosts",
    "Spoiler",
    "engine_client",
    "ensure_host_firewall",
    "ensure_remote_hosts",
    "grade_locally",
    "hosts_cpu_seconds",
    "keep_history",
    "planned_hosts",
    "redo_lab",
    "reset_host_lab",
    "restore",
    "run_in_netns",
    "spoil",
    "teardown",
]
