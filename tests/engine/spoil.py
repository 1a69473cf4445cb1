"""Helpers for the spoiled-step tests: find the lab's objects, assert what grade says."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import docker

from devlab.model_student import ModelStudent
from tests.engine.conftest import Graded


def containers_made_from(client: docker.DockerClient, reference: str) -> list[str]:
    """Ids of containers created with exactly this image reference (not built-on images)."""
    return [
        c["Id"]
        for c in client.api.containers(all=True)
        if c["Image"] in (reference, f"{reference}:latest")
    ]


def remove_containers(client: docker.DockerClient, ids: Iterable[str]) -> None:
    for container_id in ids:
        client.api.remove_container(container_id, force=True, v=True)


def assert_only(graded: Graded, failing: set[str], **messages: str) -> None:
    """Exactly ``failing`` fail, each with a message containing the given text."""
    assert graded.exit_code == (1 if failing else 0), graded.stderr
    assert graded.failing == failing, {c: graded.message(c) for c in graded.failing}
    for check_id, text in messages.items():
        check_id = check_id.replace("_", ".", 1)
        assert text in graded.message(check_id), graded.message(check_id)
    for check_id in failing:
        assert graded.checks[check_id]["hint"], f"{check_id} gives no command to try"
        assert graded.checks[check_id]["points"] == 0


@contextmanager
def image_put_back(student: ModelStudent, engine: docker.DockerClient, ref: str) -> Iterator[str]:
    """The id of the student's image ``ref``, tagged ``ref`` again once the test is done."""
    image_id = engine.api.inspect_image(ref)["Id"]
    yield image_id
    student.sh(f"docker image tag {image_id} {ref}")
