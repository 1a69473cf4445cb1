"""Task 3: a user-defined bridge network on which one container reaches another by name."""

from __future__ import annotations

import pytest

from checks.storage_networks import evidence
from checks.storage_networks.evidence import StorageLab
from checks.storage_networks.solution import (
    CLIENT,
    CREATE_NETWORK,
    NETWORK,
    REACH_SERVER,
    RUN_CLIENT,
    RUN_SERVER,
    SERVER,
)
from grader import fail, prove
from grader.imageref import is_repository

pytestmark = pytest.mark.task("task3", "Connect containers on a network of your own")


@pytest.mark.check(
    "network.created",
    points=1,
    title=f"{NETWORK} is a user-defined bridge network",
    hint=CREATE_NETWORK.command,
)
def test_a_user_defined_bridge_network_exists(lab: StorageLab) -> None:
    found = evidence.network(lab, NETWORK)
    if found is None:
        fail(f"found no network named {NETWORK} (`docker network ls` lists the networks)")
    if found.get("Driver") != "bridge":
        fail(
            f"network {NETWORK} uses the driver {found.get('Driver')!r}, not bridge",
            hint=f"docker network rm {NETWORK} && {CREATE_NETWORK.command}",
        )


@pytest.mark.check(
    "network.by_name",
    points=3,
    title=f"{CLIENT} reaches {SERVER} by name on {NETWORK}",
    hint=REACH_SERVER.command,
)
def test_one_container_reaches_another_by_name(lab: StorageLab) -> None:
    if evidence.network(lab, NETWORK) is None:
        fail(f"found no network named {NETWORK}", hint=CREATE_NETWORK.command)
    for name, run in ((SERVER, RUN_SERVER), (CLIENT, RUN_CLIENT)):
        container = lab.state.container_named(name)
        if container is None:
            fail(f"found no container named {name}", hint=run.command)
        if not container.running:
            fail(
                f"{name} is {container.status}, not running", hint=f"docker container start {name}"
            )
        networks = set((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})
        if NETWORK not in networks:
            on = ", ".join(sorted(networks)) or "no network"
            fail(
                f"{name} is on {on}, not on {NETWORK}",
                hint=f"docker network connect {NETWORK} {name}",
            )
        prove(container)
    server = lab.state.container_named(SERVER)
    if server is not None and not is_repository(server.image_ref, "nginx"):
        fail(
            f"{SERVER} runs {server.image_ref}, not nginx",
            hint=f"docker container rm --force {SERVER} && {RUN_SERVER.command}",
        )
    fetched = evidence.fetch_by_name(lab)
    if fetched.exit_code != 0:
        said = (fetched.stderr or fetched.stdout).strip().splitlines()
        why = f": {said[-1][:80]}" if said else ""
        fail(f"{CLIENT} could not fetch http://{SERVER}/ (wget exited {fetched.exit_code}{why})")
    lab.note(f"{CLIENT} fetched http://{SERVER}/ on {NETWORK} ({len(fetched.stdout)} bytes)")
