"""Commit or build: verdicts on engine JSON recorded from the shapes engines send.

The ``recorded/`` fixtures were made on a one-layer ``rec-base`` image (see its README.md) by
three engine shapes (classic, API 1.45, containerd's image store), so these tests pass
``base_name="rec-base"``. The lab's own words (ubuntu, ourfiglet) are in
test_commit_detection.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.engine.commit_detection import CommitVerdict, detect_commit
from grader.engine.facts import parse_event

RECORDED = Path(__file__).parent / "recorded"
SHAPES = ["classic", "api145", "containerd"]
SOURCE = "ccbd81fa63fb2e7372817ad95d619546e7e43a52508c931a0186f845d24dd46c"
CHANGE_SOURCE = "e1dc3ec36c90455f81e419bd1ca291eeff6de487d2e2b8b6a805e4ed09d0b58c"
BUILT_STEP = "RUN /bin/sh -c mkdir -p /usr/bin && echo figlet > /usr/bin/figlet"


def load(shape: str, scenario: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RECORDED / f"{shape}_{scenario}.json").read_text())
    return doc


def judge(
    doc: dict[str, Any],
    *,
    base: Any = "recorded",
    containers: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> CommitVerdict:
    """The verdict on a recording, events read by the facts layer as in a real run."""
    events = doc["events"] if events is None else events
    return detect_commit(
        doc["image"],
        doc["history"],
        doc["base"] if base == "recorded" else base,
        doc["containers"] if containers is None else containers,
        [parse_event(event) for event in events],
        name="ourfiglet",
        base_name="rec-base",
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_recordings_hold_what_the_tests_rely_on(shape: str) -> None:
    doc = load(shape, "commit")
    assert doc["history"][0]["CreatedBy"] == "sh"
    assert [e["Action"] for e in doc["events"]].count("commit") == 1
    assert ("ContainerConfig" in doc["image"]) is (shape == "classic")
    assert ("Hostname" in doc["image"]["Config"]) is (shape != "containerd")


@pytest.mark.parametrize("shape", SHAPES)
def test_lab_commit_with_everything_left(shape: str) -> None:
    verdict = judge(load(shape, "commit"))
    assert verdict == CommitVerdict(
        True,
        "ourfiglet is rec-base's 1 layer plus 1, committed from container ccbd81fa63fb "
        "(command: sh)",
        SOURCE,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_lab_commit_with_container_only(shape: str) -> None:
    verdict = judge(load(shape, "commit"), events=[])
    assert verdict.committed
    assert verdict.source_container == SOURCE


@pytest.mark.parametrize("shape", SHAPES)
def test_lab_commit_with_event_only(shape: str) -> None:
    verdict = judge(load(shape, "commit"), containers=[])
    assert verdict.committed
    assert verdict.source_container == SOURCE
    assert verdict.reason.endswith("; the engine's commit event names it")


@pytest.mark.parametrize("shape", SHAPES)
def test_nothing_left_but_the_image_still_counts_a_plain_commit(shape: str) -> None:
    verdict = judge(load(shape, "commit"), containers=[], events=[])
    assert verdict == CommitVerdict(
        True,
        "ourfiglet is rec-base's 1 layer plus 1, committed from a container that is gone "
        "(command: sh); no commit event is left to name it",
        None,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_commit_with_change_and_message(shape: str) -> None:
    doc = load(shape, "commit_change")
    assert doc["image"]["Config"]["Cmd"] == ["figlet"]
    verdict = judge(doc)
    assert verdict.committed
    assert verdict.source_container == CHANGE_SOURCE
    assert "(command: sh -c echo figlet > /bin/figlet)" in verdict.reason


@pytest.mark.parametrize("shape", SHAPES)
def test_commit_with_change_container_gone_event_present(shape: str) -> None:
    verdict = judge(load(shape, "commit_change"), containers=[])
    assert verdict.committed
    assert verdict.source_container == CHANGE_SOURCE
    assert "committed from container e1dc3ec36c90" in verdict.reason


@pytest.mark.parametrize("shape", SHAPES)
def test_commit_with_change_container_left_event_gone(shape: str) -> None:
    verdict = judge(load(shape, "commit_change"), events=[])
    assert verdict.committed
    assert verdict.source_container == CHANGE_SOURCE


@pytest.mark.parametrize("shape", SHAPES)
def test_commit_with_change_and_nothing_left_cannot_be_shown(shape: str) -> None:
    verdict = judge(load(shape, "commit_change"), containers=[], events=[])
    assert verdict == CommitVerdict(
        False,
        "cannot show ourfiglet was committed: its top history entry (sh -c echo figlet > "
        "/bin/figlet) is not its command (figlet), and neither the source container nor the "
        "engine's commit event is left",
        None,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_classic_build_is_rejected(shape: str) -> None:
    doc = load(shape, "build_legacy")
    # The lab's committed container and its event are still around: they must not be taken.
    commit = load(shape, "commit")
    verdict = judge(doc, containers=commit["containers"], events=commit["events"] + doc["events"])
    assert verdict == CommitVerdict(
        False,
        f"ourfiglet was built from a Dockerfile by the classic builder (top history entry: "
        f"{BUILT_STEP}, while its command stays sh), not committed from a container",
        None,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_buildkit_build_is_rejected(shape: str) -> None:
    commit = load(shape, "commit")
    verdict = judge(load(shape, "build_buildkit"), containers=commit["containers"])
    assert verdict == CommitVerdict(
        False,
        f"ourfiglet was built by BuildKit from a Dockerfile (top history entry: {BUILT_STEP}), "
        "not committed from a container",
        None,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_builds_are_rejected_without_the_base_too(shape: str) -> None:
    assert "BuildKit" in judge(load(shape, "build_buildkit"), base=None).reason
    assert "classic builder" in judge(load(shape, "build_legacy"), base=None).reason


@pytest.mark.parametrize("shape", SHAPES)
def test_base_missing_but_container_names_it(shape: str) -> None:
    verdict = judge(load(shape, "commit"), base=None)
    assert verdict == CommitVerdict(
        True,
        "ourfiglet was committed from container ccbd81fa63fb of rec-base (command: sh); "
        "the rec-base image is not on this host to compare layers",
        SOURCE,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_base_missing_event_names_it(shape: str) -> None:
    verdict = judge(load(shape, "commit"), base=None, containers=[])
    assert verdict.committed
    assert verdict.source_container == SOURCE


def test_base_missing_nothing_left_classic_config_names_the_base() -> None:
    verdict = judge(load("classic", "commit"), base=None, containers=[], events=[])
    assert verdict.committed
    assert verdict.source_container is None
    assert "of rec-base that is gone" in verdict.reason


@pytest.mark.parametrize("shape", ["api145", "containerd"])
def test_base_missing_nothing_left_cannot_tell(shape: str) -> None:
    doc = load(shape, "commit")
    doc["image"]["Config"].pop("Image", None)  # as Docker 28.3+ and containerd present it
    verdict = judge(doc, base=None, containers=[], events=[])
    assert verdict == CommitVerdict(
        False,
        "cannot tell whether ourfiglet was committed from a rec-base container: the rec-base "
        "image is not on this host to compare layers, and no container or commit event is "
        "left to show it",
        None,
    )


def test_base_missing_event_of_another_image() -> None:
    doc = load("classic", "commit")
    (commit,) = [e for e in doc["events"] if e["Action"] == "commit"]
    commit["Actor"]["Attributes"]["image"] = "debian:12"
    verdict = judge(doc, base=None, containers=[])
    assert not verdict.committed
    assert verdict.reason == (
        "ourfiglet was committed from container ccbd81fa63fb of debian:12, not of rec-base"
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_layers_not_on_the_base(shape: str) -> None:
    doc = load(shape, "commit")
    other = dict(doc["base"], RootFS={"Type": "layers", "Layers": ["sha256:" + "0" * 64]})
    verdict = judge(doc, base=other)
    assert verdict == CommitVerdict(
        False,
        "ourfiglet is not built on the local rec-base image "
        "(its layers do not start with rec-base's)",
        None,
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_no_layer_added(shape: str) -> None:
    doc = load(shape, "commit")
    doc["image"]["RootFS"] = doc["base"]["RootFS"]
    verdict = judge(doc)
    assert not verdict.committed
    assert verdict.reason.startswith("ourfiglet adds no layer to rec-base's 1 layer")
