"""Putting the test engine into a known state: reset the lab, flood the event history, snapshot."""

from __future__ import annotations

import contextlib
from typing import Any

import docker
import docker.errors

#: Image repositories the lab (and the spoilers) create; stand-ins are never touched.
LAB_REPOSITORIES = ("ourfiglet", "hello", "linux_tweet_app", "spoiled")
STANDINS = ("alpine", "ubuntu", "nginx", "mysql")


def _is_lab_tag(tag: str) -> bool:
    repository = tag.rsplit(":", 1)[0]
    return repository.split("/")[-1] in LAB_REPOSITORIES or tag in ("mysql:8.0",)


def reset_lab(client: docker.DockerClient) -> None:
    """Remove every container and every lab-made image, as on a host where the lab was not done."""
    for container in client.api.containers(all=True):
        if container["Names"] and container["Names"][0].lstrip("/").startswith(
            ("standin-probe-", "rec-")
        ):
            continue  # another engineer's probe, not ours to remove
        client.api.remove_container(container["Id"], force=True, v=True)
    for image in client.api.images():
        for tag in image.get("RepoTags") or []:
            if _is_lab_tag(tag):
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_image(tag, force=True)
    client.api.prune_images(filters={"dangling": True})


def flood_events(client: docker.DockerClient, count: int = 300) -> None:
    """Push the engine's event history past its in-memory limit, as a busy student would."""
    image = client.api.inspect_image("alpine")["Id"]
    for _ in range(count // 2):
        client.api.tag(image, "spoiled-flood", "x")
        client.api.remove_image("spoiled-flood:x")


def snapshot(client: docker.DockerClient) -> dict[str, Any]:
    """Everything grading must leave as it found it."""
    return {
        "containers": sorted(
            (c["Id"], c["State"], c["Status"].split(" ")[0], c["Image"])
            for c in client.api.containers(all=True)
        ),
        "images": sorted(
            (i["Id"], tuple(sorted(i.get("RepoTags") or ()))) for i in client.api.images(all=True)
        ),
        "volumes": sorted(v["Name"] for v in client.api.volumes().get("Volumes") or []),
        "networks": sorted(n["Id"] for n in client.api.networks()),
    }
