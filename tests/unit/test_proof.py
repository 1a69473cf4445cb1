"""What a check's proof records of the engine's objects: identifiers and times, nothing else."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import pytest

from grader.engine import proof
from grader.engine.facts import ContainerFacts, Event, ImageFacts
from submissions.dialect import Evidence

CONTAINER_ID = "a" * 64
IMAGE_ID = "sha256:" + "b" * 64


def fake_client(**attrs: dict[str, Any]) -> Any:
    """A docker client whose inspect calls answer from ``attrs`` (no engine)."""
    api = SimpleNamespace(
        inspect_container=lambda _id: attrs["container"],
        inspect_image=lambda _id: attrs["image"],
    )
    return SimpleNamespace(api=api)


@pytest.fixture(autouse=True)
def fresh_proof() -> None:
    proof.begin()


def test_a_container_is_proved_by_id_creation_and_image_never_by_its_environment() -> None:
    client = fake_client(
        container={
            "Created": "2026-12-01T10:00:00.123456789Z",
            "Config": {"Env": ["MYSQL_ROOT_PASSWORD=s3cret"]},
        }
    )
    mydb = ContainerFacts(client, {"Id": CONTAINER_ID, "Names": ["/mydb"], "ImageID": IMAGE_ID})
    proof.prove(mydb)
    assert proof.taken() == (
        Evidence(
            "container",
            CONTAINER_ID,
            created="2026-12-01T10:00:00.123456+00:00",
            image=IMAGE_ID,
            name="mydb",
        ),
    )
    assert "s3cret" not in repr(proof.taken())


def test_an_image_and_an_event() -> None:
    client = fake_client(image={"Created": "2026-11-30T08:00:00Z"})
    image = ImageFacts(client, {"Id": IMAGE_ID, "RepoTags": ["hello:v0.1"]})
    event = Event("container", "create", CONTAINER_ID, {}, 1764583200.5)
    proof.prove(image, event)
    assert proof.taken() == (
        Evidence("image", IMAGE_ID, created="2026-11-30T08:00:00+00:00", name="hello:v0.1"),
        Evidence("event", CONTAINER_ID, created="2025-12-01T10:00:00.500000+00:00", name="create"),
    )


def test_an_odd_time_is_left_empty_for_the_server_to_judge() -> None:
    client = fake_client(image={"Created": "yesterday"})
    proof.prove(ImageFacts(client, {"Id": IMAGE_ID}))
    assert proof.taken()[0].created == ""


def test_begin_forgets_the_previous_checks_proof() -> None:
    proof.prove_file("x", b"1")
    proof.begin()
    assert proof.taken() == ()


def test_a_files_hash_ignores_its_line_endings() -> None:
    """A Windows checkout (CRLF) hashes as the lab's file does: the server knows that one."""
    proof.prove_file("a", b"<html>\r\n<body>\r\n</body>\r\n")
    proof.prove_file("b", b"<html>\n<body>\n</body>\n")
    crlf, lf = proof.taken()
    assert crlf.id == lf.id == hashlib.sha256(b"<html>\n<body>\n</body>\n").hexdigest()
