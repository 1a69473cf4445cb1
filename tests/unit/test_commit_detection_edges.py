"""Commit or build at the edges of the evidence: Podman's shapes, told apart one field at a time.

Each case starts from a recording in ``recorded/podman_*.json`` (Podman 4.3, a one-layer
``rec-base``; see tests/unit/test_podman_shapes.py) and changes the one thing a student's
host may show differently: the base run by its id, a commit event of another image, a shell
with ``-c``, an event at the edge of the time Podman takes to log it.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from grader.engine.commit_detection import PODMAN_COMMIT_LAG, CommitVerdict, detect_commit
from grader.engine.facts import parse_event

RECORDED = Path(__file__).parent / "recorded"
MISSING = "the rec-base image is not on this host to compare layers"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return doc


def judge(
    doc: dict[str, Any],
    *,
    base: bool = True,
    containers: bool = True,
    events: list[dict[str, Any]] | None = None,
) -> CommitVerdict:
    return detect_commit(
        doc["image"],
        doc["history"],
        doc["base"] if base else None,
        doc["containers"] if containers else [],
        [parse_event(e) for e in (doc["events"] if events is None else events)],
        name="ourfiglet",
        base_name="rec-base",
    )


def commit_event(doc: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in doc["events"] if e["Action"] == "commit")


def source(doc: dict[str, Any]) -> str:
    container_id: str = doc["containers"][0]["Id"]
    return container_id


# -- the source container, found by the command the image keeps ------------------------


def test_a_podman_commit_of_a_shell_command_names_its_container() -> None:
    """``podman commit`` without ``--change``: the image keeps the container's whole command."""
    doc = load("podman_commit_change")
    doc["image"]["Config"]["Cmd"] = doc["containers"][0]["Config"]["Cmd"]
    assert judge(doc, events=[]) == CommitVerdict(
        True,
        f"ourfiglet is rec-base's 1 layer plus 1, committed from container {source(doc)[:12]} "
        "(command: sh -c echo figlet > /bin/figlet)",
        source(doc),
    )


def test_a_container_of_the_base_run_by_its_id_is_the_source() -> None:
    """``podman run 451964470866``: the container names no repository, only the base's id."""
    doc = load("podman_commit")
    doc["containers"][0]["Config"]["Image"] = doc["base"]["Id"].removeprefix("sha256:")[:12]
    verdict = judge(doc, events=[])
    assert verdict.committed and verdict.source_container == source(doc)


def test_without_the_base_its_name_finds_the_source_container() -> None:
    doc = load("podman_commit")
    assert judge(doc, base=False, events=[]) == CommitVerdict(
        True,
        f"ourfiglet was committed from container {source(doc)[:12]} of rec-base "
        f"(command: sh); {MISSING}",
        source(doc),
    )


# -- the commit event: of the base, and the image's own --------------------------------


@pytest.mark.parametrize("spelled", ["bare", "sha256"])
def test_a_commit_event_naming_the_base_by_its_id_is_the_images(spelled: str) -> None:
    doc = load("podman_commit")
    base_id: str = doc["base"]["Id"]
    event = commit_event(doc)
    event["Actor"]["Attributes"]["image"] = (
        base_id.removeprefix("sha256:") if spelled == "bare" else base_id
    )
    verdict = judge(doc, containers=False)
    assert verdict.committed and verdict.source_container == source(doc)
    assert verdict.reason.endswith("; the engine's commit event names it")


def test_a_commit_event_of_another_image_is_not_the_images() -> None:
    doc = load("podman_commit")
    commit_event(doc)["Actor"]["Attributes"]["image"] = "docker.io/library/alpine:latest"
    assert judge(doc, containers=False) == CommitVerdict(
        True,
        "ourfiglet is rec-base's 1 layer plus 1, committed by Podman from a container "
        "(command: sh); neither that container nor the commit event is left to name it",
    )


def at(doc: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``doc`` with the image created on a whole second and its commit logged ``seconds``
    after it (before it, when negative)."""
    doc = copy.deepcopy(doc)
    doc["image"]["Created"] = "2026-12-02T01:00:42Z"
    created = int(datetime.fromisoformat("2026-12-02T01:00:42+00:00").timestamp())
    event = commit_event(doc)
    event["timeNano"] = created * 10**9 + round(seconds * 10**9)
    event["time"] = int(created + seconds)
    return doc


@pytest.mark.parametrize(
    ("seconds", "its_own"),
    [
        (-1.5, False),  # logged before the image existed: another image's commit
        (-1.0, True),  # a second's rounding between the two clocks
        (0.0, True),
        (PODMAN_COMMIT_LAG, True),
        (PODMAN_COMMIT_LAG + 0.5, False),
    ],
)
def test_a_podman_commit_event_is_the_images_within_its_lag(seconds: float, its_own: bool) -> None:
    verdict = judge(at(load("podman_commit"), seconds), containers=False)
    assert verdict.committed
    assert verdict.source_container == (source(load("podman_commit")) if its_own else None)


def second_commit(doc: dict[str, Any], seconds: float, container_id: str) -> dict[str, Any]:
    event = copy.deepcopy(commit_event(doc))
    event["Actor"]["ID"] = container_id
    event["timeNano"] = commit_event(doc)["timeNano"] + round(seconds * 10**9)
    return event


def test_of_two_commits_of_the_base_the_closest_after_the_image_is_its_own() -> None:
    doc = at(load("podman_commit"), 5)
    other = "f" * 64
    later = [*doc["events"], second_commit(doc, 10, other)]
    assert judge(doc, containers=False, events=later).source_container == source(doc)
    nearer = [second_commit(doc, -4, other), *doc["events"]]
    assert judge(doc, containers=False, events=nearer).source_container == other


def test_of_two_commits_logged_at_once_the_first_logged_is_named() -> None:
    doc = at(load("podman_commit"), 5)
    other = "f" * 64
    both = [*doc["events"], second_commit(doc, 0, other)]
    assert judge(doc, containers=False, events=both).source_container == source(doc)


# -- the shapes Podman writes --------------------------------------------------------------


def test_a_podman_commit_in_docker_format_writes_the_shell_with_its_flag() -> None:
    """buildah writes the image's shell as the commit's step: ``/bin/sh -c`` for Docker's
    format (``podman commit --format docker``), ``/bin/sh`` for OCI's."""
    doc = load("podman_commit")
    doc["history"][0]["CreatedBy"] = "/bin/sh -c"
    assert judge(doc) == CommitVerdict(
        True,
        f"ourfiglet is rec-base's 1 layer plus 1, committed from container {source(doc)[:12]} "
        "(command: sh)",
        source(doc),
    )


def test_a_podman_step_that_runs_a_command_is_a_build() -> None:
    doc = load("podman_commit")
    doc["history"][0]["CreatedBy"] = "/bin/sh -c figlet"
    verdict = judge(doc)
    assert not verdict.committed
    assert "built from a Dockerfile by Podman (buildah) (top history entry: RUN figlet)" in (
        verdict.reason
    )


@pytest.mark.parametrize(
    ("created_by", "step"),
    [
        ('/bin/sh -c #(nop) CMD ["figlet"]', 'CMD ["figlet"]'),
        ("/bin/sh -c #(nop) LABEL note=#(nop) here", "LABEL note=#(nop) here"),
    ],
)
def test_a_podman_build_step_that_runs_nothing_is_named_as_written(
    created_by: str, step: str
) -> None:
    doc = load("podman_build")
    doc["history"][0]["CreatedBy"] = created_by
    assert judge(doc) == CommitVerdict(
        False,
        f"ourfiglet was built from a Dockerfile by Podman (buildah) (top history entry: {step}), "
        "not committed from a container",
    )


# -- nothing left but the image ------------------------------------------------------------


def test_a_podman_commit_with_nothing_left_names_what_is_missing() -> None:
    assert judge(load("podman_commit"), base=False, containers=False, events=[]) == CommitVerdict(
        True,
        f"ourfiglet was committed from a container of rec-base that is gone (command: sh); "
        f"{MISSING}",
    )


def test_a_podman_commit_whose_comment_names_no_image() -> None:
    doc = load("podman_commit")
    doc["history"][0]["Comment"] = "FROM "
    assert judge(doc, base=False, containers=False, events=[]) == CommitVerdict(
        False, "ourfiglet was committed from a container of an image, not of rec-base"
    )
