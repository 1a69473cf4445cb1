"""What the storage and networks checks look at beyond containers and images: the engine's
volumes and networks, a volume's file, a page, a fetch from one container to another.

Each is asked once per grading (``lab.remember``, ``lab.probe``) and shared by the checks
that need it; every read goes through the engine being graded (``lab.client``), so
``grade -H ssh://...`` grades a remote machine's volumes as it does its containers.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import docker.errors

from checks.storage_networks.solution import CLIENT, NOTE, SERVER, SITE_PORT, VOLUME
from grader import Lab, probes

StorageLab: TypeAlias = Lab[Any]


def volume(lab: StorageLab, name: str = VOLUME) -> dict[str, Any] | None:
    """The volume's inspect, or None when the engine has no volume of that name."""

    def inspect() -> dict[str, Any] | None:
        try:
            return dict(lab.client.api.inspect_volume(name))
        except docker.errors.NotFound:
            return None

    return lab.remember(("volume", name), inspect)


def holders(lab: StorageLab, name: str = VOLUME) -> list[str]:
    """The containers (any state) that mount the volume: grading's own throwaways left out."""
    listed = lab.client.api.containers(all=True, filters={"volume": name})
    return sorted(
        (c.get("Names") or ["/?"])[0].lstrip("/")
        for c in listed
        if probes.THROWAWAY_LABEL not in (c.get("Labels") or {})
    )


def note(lab: StorageLab) -> probes.RunOutput | None:
    """``cat`` of the note at the volume's root, in a throwaway alpine container that mounts
    the volume read-only; None when there is no alpine image to run it in."""
    image = lab.state.image("alpine")
    if image is None:
        return None
    return lab.probe(
        f"reading {NOTE} from volume {VOLUME}",
        lambda: probes.run_throwaway(
            lab.client,
            image.id,
            ["cat", f"/data/{NOTE}"],
            timeout=lab.check_timeout / 2,
            volumes={VOLUME: "/data"},
        ),
    )


def network(lab: StorageLab, name: str) -> dict[str, Any] | None:
    """The network's inspect (its containers with it), or None when there is none."""

    def inspect() -> dict[str, Any] | None:
        try:
            return dict(lab.client.api.inspect_network(name))
        except docker.errors.NotFound:
            return None

    return lab.remember(("network", name), inspect)


def fetch_by_name(lab: StorageLab) -> probes.CommandOutput:
    """What the client got, asking for the server's page by the server's name: busybox's
    ``wget`` in alpine, as the student's step 3.4 does."""
    script = f"wget -q -O - -T 5 http://{SERVER}/"
    return lab.probe(
        f"fetching http://{SERVER}/ from {CLIENT}",
        lambda: probes.exec_shell(lab.client, CLIENT, script),
    )


def site_page(lab: StorageLab) -> probes.PageOutput:
    host, port = lab.web(SITE_PORT)
    return lab.probe(
        f"fetching {lab.web_url(SITE_PORT)}",
        lambda: probes.http_get(host, port, "/", timeout=lab.check_timeout / 2),
    )
