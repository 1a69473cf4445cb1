"""Task 1: a named volume whose data outlives the container that wrote it."""

from __future__ import annotations

import pytest

from checks.storage_networks import evidence
from checks.storage_networks.evidence import StorageLab
from checks.storage_networks.solution import (
    CREATE_VOLUME,
    NOTE,
    REMOVE_WRITER,
    VOLUME,
    WRITE_NOTE,
)
from grader import fail, prove_file

pytestmark = pytest.mark.task("task1", "Keep data in a named volume")


@pytest.mark.check(
    "volume.created",
    points=1,
    title=f"a named volume {VOLUME} exists",
    hint=CREATE_VOLUME.command,
)
def test_the_named_volume_exists(lab: StorageLab) -> None:
    found = evidence.volume(lab)
    if found is None:
        fail(f"found no volume named {VOLUME} (`docker volume ls` lists the volumes)")
    if found.get("Driver") != "local":
        fail(
            f"volume {VOLUME} uses the driver {found.get('Driver')!r}, not local",
            hint=f"docker volume rm {VOLUME} && {CREATE_VOLUME.command}",
        )


@pytest.mark.check(
    "volume.data",
    points=2,
    title=f"the volume holds {NOTE}",
    hint=WRITE_NOTE.command,
)
def test_the_volume_holds_the_note(lab: StorageLab) -> None:
    _read_note(lab)


@pytest.mark.check(
    "volume.outlived",
    points=2,
    title="the data outlived its container",
    hint=REMOVE_WRITER.command,
)
def test_the_data_outlived_its_container(lab: StorageLab) -> None:
    text = _read_note(lab)
    holding = evidence.holders(lab)
    if holding:
        names = ", ".join(holding)
        fail(
            f"container {names} still mounts volume {VOLUME}: remove it, then read the note "
            "from a new container",
            hint=f"docker container rm {holding[0]}",
        )
    lab.note(f"{NOTE} says {text.strip()[:40]!r} with no container left that wrote it")


def _read_note(lab: StorageLab) -> str:
    """The note's text, read from the volume itself; the check fails without it."""
    if evidence.volume(lab) is None:
        fail(f"found no volume named {VOLUME}", hint=CREATE_VOLUME.command)
    read = evidence.note(lab)
    if read is None:
        fail("found no alpine image to read the volume with", hint="docker image pull alpine")
    if read.exit_code != 0:
        fail(f"volume {VOLUME} holds no {NOTE} at its root (step 1.2 writes /data/{NOTE})")
    if not read.output.strip():
        fail(f"{NOTE} in volume {VOLUME} is empty")
    prove_file(f"{VOLUME}/{NOTE}", read.output.encode())  # its hash, never its text
    return read.output
