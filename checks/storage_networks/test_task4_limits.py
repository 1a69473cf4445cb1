"""Task 4: a container limited to 256 MiB of memory and half a CPU."""

from __future__ import annotations

from typing import Any

import pytest

from checks.storage_networks.evidence import StorageLab
from checks.storage_networks.solution import LIMITED, MEMORY, NANO_CPUS, RUN_LIMITED
from grader import ContainerFacts, fail, prove

pytestmark = pytest.mark.task("task4", "Limit a container")

REPLACE_LIMITED = f"docker container rm --force {LIMITED} && {RUN_LIMITED.command}"


@pytest.fixture
def limited(lab: StorageLab) -> ContainerFacts:
    container = lab.state.container_named(LIMITED)
    if container is None:
        fail(f"found no container named {LIMITED}", hint=RUN_LIMITED.command)
    if not container.running:
        fail(
            f"{LIMITED} is {container.status}, not running",
            hint=f"docker container start {LIMITED}",
        )
    prove(container)
    return container


def _host_config(container: ContainerFacts) -> dict[str, Any]:
    return dict(container.attrs.get("HostConfig") or {})


@pytest.mark.check(
    "limits.memory",
    points=2,
    title=f"{LIMITED} may use at most 256 MiB of memory",
    hint=f"docker container update --memory 256m --memory-swap 512m {LIMITED}",
)
def test_the_memory_is_limited(limited: ContainerFacts) -> None:
    memory = int(_host_config(limited).get("Memory") or 0)
    if memory == 0:
        fail(f"{LIMITED} has no memory limit", hint=REPLACE_LIMITED)
    if memory != MEMORY:
        fail(f"{LIMITED} may use {memory / 2**20:g} MiB of memory, not 256 MiB")


@pytest.mark.check(
    "limits.cpus",
    points=2,
    title=f"{LIMITED} may use at most half a CPU",
    hint=f"docker container update --cpus 0.5 {LIMITED}",
)
def test_the_cpus_are_limited(limited: ContainerFacts) -> None:
    config = _host_config(limited)
    cpus = int(config.get("NanoCpus") or 0) / 1e9
    quota, period = int(config.get("CpuQuota") or 0), int(config.get("CpuPeriod") or 0)
    if not cpus and quota > 0 and period > 0:  # --cpu-quota with --cpu-period: the same limit
        cpus = quota / period
    if not cpus:
        fail(f"{LIMITED} has no CPU limit", hint=REPLACE_LIMITED)
    if abs(cpus - NANO_CPUS / 1e9) > 1e-6:
        fail(f"{LIMITED} has a CPU limit of {cpus:g}, not 0.5")
