"""Commit or build, on synthetic images in the lab's own words (ubuntu, ourfiglet): what the
image's history says, which container is its source, and what is left to tell when the base
image is gone. Verdicts on recorded engine JSON: test_commit_detection_recorded.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.engine.commit_detection import CommitVerdict, detect_commit
from grader.engine.facts import parse_event


def detect(
    image: dict[str, Any],
    history: list[dict[str, Any]],
    base: dict[str, Any] | None,
    containers: list[dict[str, Any]],
    events: list[dict[str, Any]],
    *,
    name: str = "ourfiglet",
    base_name: str = "ubuntu",
) -> CommitVerdict:
    """The verdict on raw docker-py dicts, events read by the facts layer as in a real run."""
    parsed = [parse_event(event) for event in events]
    return detect_commit(image, history, base, containers, parsed, name=name, base_name=base_name)


# Synthetic images in the lab's own words: ubuntu with three layers, a container run as bash.

UBUNTU_ID = "sha256:" + "1" * 64
FIGLET_ID = "sha256:" + "2" * 64
CONTAINER = "3f2a9c1b7d" + "e" * 54
LAYERS = ["sha256:" + c * 64 for c in "abc"]


def ubuntu() -> dict[str, Any]:
    return {"Id": UBUNTU_ID, "RootFS": {"Type": "layers", "Layers": LAYERS}}


def figlet(**config: Any) -> dict[str, Any]:
    return {
        "Id": FIGLET_ID,
        "Created": "2026-01-02T10:00:00.123456789Z",
        "Config": {"Cmd": ["bash"], **config},
        "RootFS": {"Type": "layers", "Layers": [*LAYERS, "sha256:" + "d" * 64]},
    }


def history(created_by: str = "bash", comment: str = "") -> list[dict[str, Any]]:
    return [
        {"Id": FIGLET_ID, "CreatedBy": created_by, "Comment": comment},
        {"Id": UBUNTU_ID, "CreatedBy": '/bin/sh -c #(nop)  CMD ["/bin/bash"]', "Comment": ""},
    ]


def container(cid: str = CONTAINER, created: str = "2026-01-02T09:00:00Z", **config: Any) -> Any:
    return {
        "Id": cid,
        "Created": created,
        "Image": UBUNTU_ID,
        "Config": {"Cmd": ["bash"], "Hostname": cid[:12], "Image": "ubuntu", **config},
    }


def commit_event(image_id: str = FIGLET_ID, cid: str = CONTAINER) -> dict[str, Any]:
    attributes = {"comment": "", "image": "ubuntu", "imageID": image_id, "name": "x"}
    return {"Type": "container", "Action": "commit", "Actor": {"ID": cid, "Attributes": attributes}}


def test_the_lab_in_its_own_words() -> None:
    verdict = detect(figlet(), history(), ubuntu(), [container()], [])
    assert verdict == CommitVerdict(
        True,
        "ourfiglet is ubuntu's 3 layers plus 1, committed from container 3f2a9c1b7dee "
        "(command: bash)",
        CONTAINER,
    )


def test_classic_nop_step_on_top() -> None:
    verdict = detect(
        figlet(), history('/bin/sh -c #(nop)  CMD ["figlet"]'), ubuntu(), [container()], []
    )
    assert verdict.reason == (
        "ourfiglet was built from a Dockerfile by the classic builder (top history entry: CMD "
        '["figlet"]), not committed from a container'
    )


def test_buildkit_marker_in_created_by_alone() -> None:
    verdict = detect(figlet(), history("COPY . /app # buildkit"), ubuntu(), [container()], [])
    assert verdict.reason.startswith("ourfiglet was built by BuildKit from a Dockerfile")
    assert "(top history entry: COPY . /app)" in verdict.reason


def test_imported_image() -> None:
    verdict = detect(figlet(), history("", "Imported from -"), ubuntu(), [], [])
    assert verdict == CommitVerdict(
        False, "ourfiglet was imported from a tarball (docker import), not committed", None
    )


def test_empty_history() -> None:
    verdict = detect(figlet(), [], ubuntu(), [container()], [])
    assert not verdict.committed
    assert "no history" in verdict.reason


def test_long_commands_are_clipped_to_one_line() -> None:
    long = "bash -c " + "apt-get install -y figlet && " * 10
    image = figlet(Cmd=long.split(" "))
    verdict = detect(image, history(long), ubuntu(), [], [])
    assert verdict.committed
    assert "\n" not in verdict.reason
    assert "…)" in verdict.reason


def test_a_container_made_after_the_image_is_not_its_source() -> None:
    late = container("9" * 64, created="2026-01-02T11:00:00Z")
    verdict = detect(figlet(), history(), ubuntu(), [late], [])
    assert verdict.committed  # the shape still shows a commit
    assert verdict.source_container is None


def test_the_latest_matching_container_is_named() -> None:
    older, newer = container("5" * 64, "2026-01-01T00:00:00Z"), container()
    verdict = detect(figlet(), history(), ubuntu(), [newer, older], [])
    assert verdict.source_container == CONTAINER


def test_hostname_in_the_image_must_match() -> None:
    image = figlet(Hostname="feedfacecafe")
    other = container("7" * 64)
    verdict = detect(image, history(), ubuntu(), [other], [])
    assert verdict.source_container is None
    mine = container("feedfacecafe" + "0" * 52)
    verdict = detect(image, history(), ubuntu(), [other, mine], [])
    assert verdict.source_container == mine["Id"]


def test_recorded_container_id_must_match() -> None:
    image = {**figlet(), "Container": "8" * 64}
    verdict = detect(image, history(), ubuntu(), [container()], [])
    assert verdict.source_container is None


def test_container_of_another_image_is_not_the_source() -> None:
    other = {**container(), "Image": "sha256:" + "4" * 64}
    verdict = detect(figlet(), history(), ubuntu(), [other], [])
    assert verdict.source_container is None


def test_commit_event_of_another_image_is_ignored() -> None:
    verdict = detect(
        figlet(), history(), ubuntu(), [], [commit_event(image_id="sha256:" + "6" * 64)]
    )
    assert verdict.source_container is None


def test_commit_event_in_the_old_status_format() -> None:
    old = {"status": "commit", "id": CONTAINER, "Actor": {"Attributes": {"imageID": FIGLET_ID}}}
    verdict = detect(figlet(Cmd=["figlet"]), history(), ubuntu(), [], [old])
    assert verdict.committed
    assert verdict.source_container == CONTAINER


def test_history_with_config_style_keys() -> None:
    entries = [{"created_by": "RUN /bin/sh -c x # buildkit", "comment": "buildkit.dockerfile.v0"}]
    verdict = detect(figlet(), entries, ubuntu(), [], [])
    assert "BuildKit" in verdict.reason


def test_the_names_in_the_reason_are_parameters() -> None:
    verdict = detect(
        figlet(), history(), ubuntu(), [container()], [], name="myfiglet", base_name="ubuntu"
    )
    assert verdict.reason.startswith("myfiglet is ubuntu's 3 layers plus 1")


# Each decision asserted whole: committed or not, the reason, the source container.


def test_classic_nop_step_on_top_is_no_commit() -> None:
    verdict = detect(
        figlet(), history('/bin/sh -c #(nop)  CMD ["figlet"]'), ubuntu(), [container()], []
    )
    assert verdict == CommitVerdict(
        False,
        "ourfiglet was built from a Dockerfile by the classic builder (top history entry: CMD "
        '["figlet"]), not committed from a container',
        None,
    )


def test_a_second_nop_marker_stays_in_the_step() -> None:
    step = "/bin/sh -c #(nop)  LABEL note=#(nop) here"
    verdict = detect(figlet(), history(step), ubuntu(), [container()], [])
    assert verdict.committed is False
    assert "(top history entry: LABEL note=#(nop) here)" in verdict.reason


def test_imported_image_is_no_commit() -> None:
    verdict = detect(figlet(), history("", "Imported from -"), ubuntu(), [container()], [])
    assert verdict.committed is False
    assert verdict.source_container is None


def test_a_buildkit_marker_with_trailing_blanks() -> None:
    verdict = detect(figlet(), history("COPY . /app # buildkit \n"), ubuntu(), [container()], [])
    assert verdict == CommitVerdict(
        False,
        "ourfiglet was built by BuildKit from a Dockerfile (top history entry: COPY . /app), "
        "not committed from a container",
        None,
    )


def test_empty_history_is_no_commit() -> None:
    verdict = detect(figlet(), [], ubuntu(), [container()], [commit_event()])
    assert verdict == CommitVerdict(
        False, "ourfiglet has no history to read (docker history is empty)", None
    )


def test_no_layer_added_is_no_commit_even_with_its_container() -> None:
    image = {**figlet(), "RootFS": {"Type": "layers", "Layers": LAYERS}}
    verdict = detect(image, history(), ubuntu(), [container()], [commit_event()])
    assert verdict == CommitVerdict(
        False,
        "ourfiglet adds no layer to ubuntu's 3 layers: nothing changed in the container, "
        "or it is ubuntu under another name",
        None,
    )


def test_history_in_config_style_keys_is_read_for_the_command_and_comment() -> None:
    lower = [{"created_by": "bash", "comment": ""}]
    assert detect(figlet(), lower, ubuntu(), [], []) == CommitVerdict(
        True,
        "ourfiglet is ubuntu's 3 layers plus 1, committed from a container that is gone "
        "(command: bash); no commit event is left to name it",
        None,
    )
    imported = [{"created_by": "bash", "comment": "Imported from -"}]
    assert detect(figlet(), imported, ubuntu(), [], []).reason == (
        "ourfiglet was imported from a tarball (docker import), not committed"
    )


def test_a_top_entry_without_created_by_cannot_show_a_commit() -> None:
    verdict = detect(figlet(), [{"Id": FIGLET_ID}], ubuntu(), [container()], [])
    assert verdict == CommitVerdict(
        False,
        "cannot show ourfiglet was committed: its top history entry (empty) is not its command "
        "(bash), and neither the source container nor the engine's commit event is left",
        None,
    )


def test_cannot_show_names_the_whole_command_or_none() -> None:
    many = detect(figlet(Cmd=["figlet", "-f", "big"]), history("sh"), ubuntu(), [], [])
    assert many.committed is False
    assert "is not its command (figlet -f big)" in many.reason
    image = figlet()
    del image["Config"]["Cmd"]
    missing = detect(image, history("sh"), ubuntu(), [], [])
    assert missing.committed is False
    assert "is not its command (none)" in missing.reason


def test_commands_are_clipped_at_eighty_characters() -> None:
    exact = "x" * 80
    verdict = detect(figlet(Cmd=[exact]), history(exact), ubuntu(), [], [])
    assert f"(command: {exact})" in verdict.reason
    longer = "y" * 81
    verdict = detect(figlet(Cmd=[longer]), history(longer), ubuntu(), [], [])
    assert f"(command: {'y' * 79}…)" in verdict.reason


def test_a_commit_event_naming_the_image_without_its_prefix_counts() -> None:
    event = commit_event(image_id=FIGLET_ID.removeprefix("sha256:"))
    verdict = detect(figlet(Cmd=["figlet"]), history(), ubuntu(), [], [event])
    assert verdict.committed is True
    assert verdict.source_container == CONTAINER


def test_the_latest_commit_event_of_the_image_names_the_source() -> None:
    first, second = commit_event(cid="1" * 64), commit_event(cid="2" * 64)
    other = commit_event(image_id="sha256:" + "6" * 64, cid="3" * 64)
    verdict = detect(figlet(), history(), ubuntu(), [], [first, second, other])
    assert verdict.source_container == "2" * 64


# Which container is the source: each way a container is passed over, listed before the one
# that matches (so a loop that stopped at the first miss would name none).

LATE = "2026-01-02T11:00:00Z"


@pytest.mark.parametrize(
    "miss",
    [
        {"Id": "4" * 64, "Config": {"Cmd": ["sh"], "Image": "ubuntu"}},
        {"Id": "4" * 64, "Image": "sha256:" + "5" * 64},
        {"Id": "4" * 64, "Created": LATE},
    ],
    ids=["other-command", "other-base", "made-after-the-image"],
)
def test_a_passed_over_container_before_the_source(miss: dict[str, Any]) -> None:
    passed_over = {**container(), **miss}
    verdict = detect(figlet(), history(), ubuntu(), [passed_over, container()], [])
    assert verdict.source_container == CONTAINER


def test_a_container_with_another_hostname_before_the_source() -> None:
    image = figlet(Hostname=CONTAINER[:12])
    other = container("4" * 64)
    verdict = detect(image, history(), ubuntu(), [other, container()], [])
    assert verdict.source_container == CONTAINER


def test_a_container_other_than_the_recorded_one_before_it() -> None:
    image = {**figlet(), "Container": CONTAINER}
    verdict = detect(image, history(), ubuntu(), [container("4" * 64), container()], [])
    assert verdict.source_container == CONTAINER


@pytest.mark.parametrize("order", [1, -1], ids=["older-first", "newer-first"])
def test_the_latest_matching_container_is_named_in_any_order(order: int) -> None:
    older = container("5" * 64, "2026-01-01T00:00:00Z")
    verdict = detect(figlet(), history(), ubuntu(), [older, container()][::order], [])
    assert verdict.source_container == CONTAINER


def test_a_container_with_no_creation_time_loses_to_a_dated_one() -> None:
    undated = {**container("5" * 64), "Created": None}
    for containers in ([undated, container()], [container(), undated]):
        verdict = detect(figlet(), history(), ubuntu(), containers, [])
        assert verdict.source_container == CONTAINER
    alone = detect(figlet(), history(), ubuntu(), [undated], [])
    assert alone.source_container == "5" * 64


def test_two_containers_made_at_the_same_time_name_the_first_listed() -> None:
    for created in ("2026-01-02T09:00:00Z", None):
        one, two = container("5" * 64, created), container("6" * 64, created)
        verdict = detect(figlet(), history(), ubuntu(), [one, two], [])
        assert verdict.source_container == "5" * 64


def test_a_container_made_in_the_same_instant_as_the_image_may_be_its_source() -> None:
    same = container(created=figlet()["Created"])
    assert detect(figlet(), history(), ubuntu(), [same], []).source_container == CONTAINER


def test_a_creation_time_that_is_not_text_is_no_time() -> None:
    odd = container(created=1767344400)  # type: ignore[arg-type]
    verdict = detect({**figlet(), "Created": 5}, history(), ubuntu(), [odd], [])
    assert verdict.source_container == CONTAINER


def test_a_container_run_by_image_id_is_the_source_when_the_base_is_local() -> None:
    by_id = container(Image=UBUNTU_ID)
    verdict = detect(figlet(), history(), ubuntu(), [by_id], [])
    assert verdict.source_container == CONTAINER


# Without the base image on the host: only a container or event that names the base counts.


def test_base_missing_only_the_container_left() -> None:
    verdict = detect(figlet(), history(), None, [container()], [])
    assert verdict == CommitVerdict(
        True,
        "ourfiglet was committed from container 3f2a9c1b7dee of ubuntu (command: bash); "
        "the ubuntu image is not on this host to compare layers",
        CONTAINER,
    )


def test_base_missing_a_container_of_another_image_is_not_credited() -> None:
    debian = container(Image="debian:12")
    verdict = detect(figlet(), history(), None, [debian], [])
    assert verdict == CommitVerdict(
        False,
        "cannot tell whether ourfiglet was committed from a ubuntu container: the ubuntu image "
        "is not on this host to compare layers, and no container or commit event is left to "
        "show it",
        None,
    )


def test_base_missing_the_container_of_ubuntu_is_found_after_another() -> None:
    debian = container("4" * 64, Image="debian:12")
    verdict = detect(figlet(), history(), None, [debian, container()], [])
    assert verdict.source_container == CONTAINER


def test_base_missing_event_of_another_image_names_its_container() -> None:
    event = commit_event()
    event["Actor"]["Attributes"]["image"] = "debian:12"
    verdict = detect(figlet(), history(), None, [], [event])
    assert verdict == CommitVerdict(
        False,
        "ourfiglet was committed from container 3f2a9c1b7dee of debian:12, not of ubuntu",
        CONTAINER,
    )


def test_base_missing_event_without_its_image_is_not_of_ubuntu() -> None:
    event = commit_event()
    del event["Actor"]["Attributes"]["image"]
    verdict = detect(figlet(), history(), None, [container()], [event])
    assert verdict == CommitVerdict(
        False,
        "ourfiglet was committed from container 3f2a9c1b7dee of an image, not of ubuntu",
        CONTAINER,
    )


def test_base_missing_nothing_left_and_no_command_shape() -> None:
    verdict = detect(figlet(Cmd=["figlet"]), history("sh"), None, [], [])
    assert verdict == CommitVerdict(
        False,
        "cannot show ourfiglet was committed: its top history entry (sh) is not its command "
        "(figlet), and neither the source container nor the engine's commit event is left",
        None,
    )


def test_base_missing_nothing_left_config_names_ubuntu() -> None:
    verdict = detect(figlet(Image="ubuntu"), history(), None, [], [])
    assert verdict == CommitVerdict(
        True,
        "ourfiglet was committed from a container of ubuntu that is gone (command: bash); "
        "the ubuntu image is not on this host to compare layers",
        None,
    )
