"""How each step of the storage and networks lab is spoiled, from a solved lab, and what must
fail with it: the step's own check and those that depend on it, no other.

``grade lab selftest storage_networks -H ENGINE`` types each spoiler's commands, grades,
expects exactly ``fails`` to fail, then types ``undo`` (what a student would do to fix it).
No two spoilers fail the same checks, so each check's failure is told apart.
"""

from __future__ import annotations

from checks.storage_networks.solution import (
    CLIENT,
    CREATE_NETWORK,
    CREATE_VOLUME,
    LIMITED,
    NETWORK,
    NOTE,
    REMOVE_WRITER,
    RUN_CLIENT,
    RUN_SERVER,
    RUN_SITE,
    SERVER,
    SITE,
    SITE_PORT,
    SITE_READY,
    VOLUME,
    WRITE_NOTE,
)
from grader import Spoiler, Step

VOLUME_CHECKS = frozenset({"volume.created", "volume.data", "volume.outlived"})
HOLDER = "notes-holder"
WRITE_AGAIN = (WRITE_NOTE, REMOVE_WRITER)
NETWORK_AGAIN = (CREATE_NETWORK, RUN_SERVER, RUN_CLIENT)

SPOILERS = (
    Spoiler(
        "volume removed",
        (Step(f"docker volume rm {VOLUME}"),),
        fails=VOLUME_CHECKS,
        says={check: f"found no volume named {VOLUME}" for check in VOLUME_CHECKS},
        undo=(CREATE_VOLUME, *WRITE_AGAIN),
    ),
    Spoiler(
        "note deleted",
        (Step(f"docker container run --rm --mount source={VOLUME},target=/data alpine "
              f"rm /data/{NOTE}"),),
        fails=frozenset({"volume.data", "volume.outlived"}),
        says={"volume.data": f"holds no {NOTE} at its root"},
        undo=WRITE_AGAIN,
    ),
    Spoiler(
        "volume still mounted by a container",
        (Step(f"docker container run --name {HOLDER} --mount source={VOLUME},target=/data "
              "alpine true"),),
        fails=frozenset({"volume.outlived"}),
        says={"volume.outlived": f"{HOLDER} still mounts volume {VOLUME}"},
        undo=(Step(f"docker container rm {HOLDER}"),),
    ),
    Spoiler(
        "site without the bind mount",
        (Step(f"docker container rm --force {SITE}"),
         Step(f"docker container run --detach --name {SITE} --publish {SITE_PORT}:80 nginx")),
        fails=frozenset({"bind.mounted", "bind.served"}),
        says={"bind.mounted": "mounts nothing at /usr/share/nginx/html",
              "bind.served": "serves no folder of the host"},
        undo=(Step(f"docker container rm --force {SITE}"), RUN_SITE, SITE_READY),
    ),
    Spoiler(
        "site stopped",
        (Step(f"docker container stop {SITE}"),),
        fails=frozenset({"bind.served"}),
        says={"bind.served": "not running"},
        undo=(Step(f"docker container start {SITE}"), SITE_READY),
    ),
    Spoiler(
        "network removed",
        (Step(f"docker container rm --force {SERVER} {CLIENT}"),
         Step(f"docker network rm {NETWORK}")),
        fails=frozenset({"network.created", "network.by_name"}),
        says={"network.created": f"found no network named {NETWORK}"},
        undo=NETWORK_AGAIN,
    ),
    Spoiler(
        "client on the default bridge",
        (Step(f"docker network disconnect {NETWORK} {CLIENT}"),
         Step(f"docker network connect bridge {CLIENT}")),
        fails=frozenset({"network.by_name"}),
        says={"network.by_name": f"{CLIENT} is on bridge, not on {NETWORK}"},
        undo=(Step(f"docker network disconnect bridge {CLIENT}"),
              Step(f"docker network connect {NETWORK} {CLIENT}")),
    ),
    Spoiler(
        "memory limit changed",
        (Step(f"docker container update --memory 512m --memory-swap 1g {LIMITED}"),),
        fails=frozenset({"limits.memory"}),
        says={"limits.memory": "may use 512 MiB of memory, not 256 MiB"},
        undo=(Step(f"docker container update --memory 256m --memory-swap 512m {LIMITED}"),),
    ),
    Spoiler(
        "cpu limit changed",
        (Step(f"docker container update --cpus 1 {LIMITED}"),),
        fails=frozenset({"limits.cpus"}),
        says={"limits.cpus": "a CPU limit of 1, not 0.5"},
        undo=(Step(f"docker container update --cpus 0.5 {LIMITED}"),),
    ),
)  # fmt: skip
