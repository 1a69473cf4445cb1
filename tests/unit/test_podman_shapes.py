"""Podman's answers, recorded from the real Podman 4.3 through its Docker-compatible API.

``recorded/podman_*.json`` were made by ``recorded/record_podman.py`` on Debian 12's podman
(rootful, ``podman system service``): containers run as the lab's first steps, a commit, a
commit with ``--change`` and ``-m``, and a build, on a one-layer ``rec-base`` image. The facts
layer must present them in the shapes the checks already understand.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from grader.engine.commit_detection import CommitVerdict, detect_commit
from grader.engine.facts import (
    DOCKER,
    PODMAN,
    ContainerFacts,
    Event,
    parse_event,
    ran_with_terminal,
)
from grader.imageref import filter_spellings, is_repository

RECORDED = Path(__file__).parent / "recorded"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return doc


CONTAINERS = load("podman_containers")


def container(
    inspect: dict[str, Any], events: list[dict[str, Any]] | None = None
) -> ContainerFacts:
    """The facts of one recorded container, its inspect (and events) served as recorded."""

    def stream(_response: object, decode: bool) -> list[dict[str, Any]]:
        assert decode and events is not None, "the events were not to be read"
        return events

    api = SimpleNamespace(
        inspect_container=lambda _id: inspect,
        _url=lambda path: path,
        _get=lambda url, params, stream: (url, params),
        _stream_helper=stream,
    )
    facts = ContainerFacts(SimpleNamespace(api=api), {"Id": inspect["Id"]})  # type: ignore[arg-type,unused-ignore]
    return facts


def events_of(name: str, recorded: list[dict[str, Any]] | None = None) -> list[Event]:
    raw = CONTAINERS["events"] if recorded is None else recorded
    return [parse_event(e) for e in raw if e["Actor"]["Attributes"].get("name") == name]


# -- containers: what ran ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ran"),
    [
        ("rec-ev-hostname", ["hostname"]),
        ("rec-ev-twice", ["hostname", "hostname"]),
        ("rec-ev-shell", ["sh", "-c", "exit 3"]),
        ("rec-ev-entrypoint", ["sh", "-c", "exit 3"]),
    ],
)
def test_the_command_a_podman_container_ran(name: str, ran: list[str]) -> None:
    assert container(CONTAINERS["inspect"][name]).command == ran


def test_podman_repeats_a_one_word_command_in_args() -> None:
    """Why Path and Args are not read: Podman shows ``hostname`` as Docker shows it twice."""
    once, twice = (CONTAINERS["inspect"][n] for n in ("rec-ev-hostname", "rec-ev-twice"))
    assert (
        (once["Path"], once["Args"]) == (twice["Path"], twice["Args"]) == ("hostname", ["hostname"])
    )


@pytest.mark.parametrize("shape", ["classic", "api145", "containerd"])
def test_dockers_containers_ran_what_path_and_args_say(shape: str) -> None:
    for inspect in (
        load(f"{shape}_commit_change")["containers"] + load(f"{shape}_commit")["containers"]
    ):
        assert container(inspect).command == [inspect["Path"], *inspect["Args"]]


def test_a_config_without_entrypoint_or_cmd_falls_back_to_path_and_args() -> None:
    inspect = {"Id": "c" * 64, "Path": "/init", "Args": ["--x"], "Config": {"Cmd": None}}
    assert container(inspect).command == ["/init", "--x"]


def raw_events_of(name: str) -> list[dict[str, Any]]:
    return [e for e in CONTAINERS["events"] if e["Actor"]["Attributes"].get("name") == name]


def test_podman_shows_no_attached_streams_in_its_config() -> None:
    """Why its events are read: ``podman run`` without ``--detach`` shows no Attach* flags."""
    inspect = CONTAINERS["inspect"]["rec-ev-hostname"]
    config = inspect["Config"]
    assert not any(config[k] for k in ("AttachStdin", "AttachStdout", "AttachStderr", "Tty"))
    assert container(inspect).engine == PODMAN


def test_a_podman_run_without_detach_is_attached_by_its_attach_event() -> None:
    inspect = CONTAINERS["inspect"]["rec-ev-hostname"]
    recorded = raw_events_of("rec-ev-hostname")
    assert container(inspect, recorded).attached
    detached = [e for e in recorded if e["Action"] != "attach"]  # what run --detach logs
    assert not container(inspect, detached).attached
    assert not container(inspect, []).attached  # events gone: nothing shows it attached


def test_a_podman_terminal_is_in_its_config() -> None:
    assert container(CONTAINERS["inspect"]["rec-ev-it"], events=None).attached


def test_docker_containers_are_judged_by_their_config_alone() -> None:
    inspect = load("classic_commit")["containers"][0]  # run -i: stdin attached
    assert container(inspect).engine == DOCKER
    assert container(inspect, events=None).attached
    detached = {**inspect, "Config": {**inspect["Config"], "AttachStdin": False,
                "AttachStdout": False, "AttachStderr": False, "OpenStdin": False}}  # fmt: skip
    assert not container(detached, events=None).attached


def test_podman_lists_pulled_and_built_images_by_their_full_names() -> None:
    listed = {c["Names"][0].lstrip("/"): c for c in CONTAINERS["listed"]}
    assert listed["rec-ev-hostname"]["Image"] == "localhost/rec-base:latest"
    assert is_repository(listed["rec-ev-hostname"]["Image"], "rec-base")
    assert is_repository("docker.io/library/ubuntu:latest", "ubuntu")
    assert not is_repository("docker.io/library/ubuntu:latest", "alpine")


def test_filter_spellings_cover_podmans_names() -> None:
    """Podman's ``ancestor`` filter matches only the full name of a pulled image."""
    assert filter_spellings("ubuntu") == ("ubuntu", "docker.io/library/ubuntu", "localhost/ubuntu")
    assert filter_spellings("localhost/ourfiglet") == ("localhost/ourfiglet",)
    assert filter_spellings("ghcr.io/org/app") == ("ghcr.io/org/app",)


# -- events ----------------------------------------------------------------------------


def test_podman_events_get_dockers_action_names() -> None:
    actions = [e.action for e in events_of("rec-ev-it-rm")]
    assert actions == ["create", "init", "start", "attach", "die", "destroy"]
    assert {e.engine for e in events_of("rec-ev-it-rm")} == {PODMAN}
    raw = [
        e["Action"]
        for e in CONTAINERS["events"]
        if e["Actor"]["Attributes"]["name"] == "rec-ev-it-rm"
    ]
    assert raw[-1] == "remove"  # as recorded: Podman's own word for it


def test_a_container_kept_has_no_destroy() -> None:
    assert "destroy" not in {e.action for e in events_of("rec-ev-it")}


@pytest.mark.parametrize(
    ("kind", "podman", "docker"),
    [
        ("container", "remove", "destroy"),
        ("container", "died", "die"),
        ("container", "exec", "exec_start"),
        ("container", "exec_died", "exec_die"),
        ("container", "cleanup", "cleanup"),
        ("image", "remove", "delete"),
        ("image", "loadfromarchive", "load"),
        ("image", "tag", "tag"),
    ],
)
def test_podman_action_names(kind: str, podman: str, docker: str) -> None:
    raw = {
        "Type": kind,
        "Action": podman,
        "Actor": {"ID": "x", "Attributes": {"containerExitCode": "0", "podId": ""}},
        "timeNano": 1_700_000_000_500_000_000,
    }
    event = parse_event(raw)
    assert (event.action, event.engine, event.time) == (docker, PODMAN, 1_700_000_000.5)


def test_docker_events_keep_their_names() -> None:
    """A Docker event lacks Podman's attributes: nothing is renamed, even a label ``podId``."""
    raw = {
        "Type": "container",
        "Action": "remove",
        "Actor": {"ID": "x", "Attributes": {"podId": "p", "image": "ubuntu"}},
        "time": 1_700_000_000,
    }
    event = parse_event(raw)
    assert (event.action, event.engine, event.time) == ("remove", DOCKER, 1_700_000_000.0)
    for shape in ("classic", "api145", "containerd"):
        assert {parse_event(e).engine for e in load(f"{shape}_commit")["events"]} == {DOCKER}


def test_podman_cannot_show_a_terminal() -> None:
    """Podman logs the same events with and without ``-t``: its history cannot tell."""
    with_tty, without = events_of("rec-ev-it-rm"), events_of("rec-ev-rm")
    assert [e.action for e in with_tty] == [e.action for e in without]
    assert ran_with_terminal(with_tty) is None
    assert ran_with_terminal(without) is None
    assert not any(e.records_terminals for e in with_tty)


def test_docker_shows_a_terminal_by_its_resize() -> None:
    def docker_event(action: str) -> Event:
        return Event("container", action, "c", {"image": "ubuntu"}, 1.0)

    started = [docker_event(a) for a in ("create", "attach", "start")]
    assert ran_with_terminal([*started, docker_event("resize"), docker_event("destroy")]) is True
    assert ran_with_terminal([*started, docker_event("destroy")]) is False
    assert ran_with_terminal([]) is False
    assert all(e.records_terminals for e in started)


# -- commits and builds ------------------------------------------------------------------

SCENARIOS = {
    "everything": (True, True, True),
    "no events": (True, True, False),
    "no containers": (True, False, True),
    "nothing left": (True, False, False),
    "no base": (False, True, True),
    "no base, nothing left": (False, False, False),
}


def judge(doc: dict[str, Any], scenario: str) -> CommitVerdict:
    base, containers, events = SCENARIOS[scenario]
    return detect_commit(
        doc["image"],
        doc["history"],
        doc["base"] if base else None,
        doc["containers"] if containers else [],
        [parse_event(e) for e in doc["events"]] if events else [],
        name="ourfiglet",
        base_name="rec-base",
    )


def test_recorded_podman_commit_holds_what_the_tests_rely_on() -> None:
    doc = load("podman_commit")
    top = doc["history"][0]
    assert (top["CreatedBy"], top["Comment"]) == ("/bin/sh", "FROM localhost/rec-base:latest")
    assert doc["image"]["Container"] == "" and doc["image"]["Config"]["Hostname"] == ""
    commit = [e for e in doc["events"] if e["Action"] == "commit"]
    assert len(commit) == 1 and "imageID" not in commit[0]["Actor"]["Attributes"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_podman_commit_counts(scenario: str) -> None:
    doc = load("podman_commit")
    verdict = judge(doc, scenario)
    assert verdict.committed, verdict.reason
    assert "(command: sh)" in verdict.reason
    source = doc["containers"][0]["Id"]
    named = scenario not in ("nothing left", "no base, nothing left")
    assert verdict.source_container == (source if named else None)


def test_podman_commit_with_everything_left() -> None:
    doc = load("podman_commit")
    source = doc["containers"][0]["Id"]
    assert judge(doc, "everything") == CommitVerdict(
        True,
        f"ourfiglet is rec-base's 1 layer plus 1, committed from container {source[:12]} "
        "(command: sh)",
        source,
    )


def test_podman_commit_event_alone_names_the_source() -> None:
    verdict = judge(load("podman_commit"), "no containers")
    assert verdict.reason.endswith("; the engine's commit event names it")


def test_podman_commit_event_too_long_after_the_image_is_not_its_own() -> None:
    doc = load("podman_commit")
    late = [
        {**e, "timeNano": e["timeNano"] + 120 * 10**9} if e["Action"] == "commit" else e
        for e in doc["events"]
    ]
    verdict = detect_commit(
        doc["image"], doc["history"], doc["base"], [], [parse_event(e) for e in late],
        name="ourfiglet", base_name="rec-base",
    )  # fmt: skip
    assert verdict.committed and verdict.source_container is None
    assert "neither that container nor the commit event is left" in verdict.reason


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_podman_commit_with_change_and_message_counts(scenario: str) -> None:
    doc = load("podman_commit_change")
    assert doc["image"]["Config"]["Cmd"] == ["figlet"]
    verdict = judge(doc, scenario)
    assert verdict.committed, verdict.reason
    _, containers, events = SCENARIOS[scenario]
    assert (verdict.source_container is not None) is events  # its config is no longer the image's
    ran = "sh -c echo figlet > /bin/figlet" if containers and events else "figlet"
    assert f"(command: {ran})" in verdict.reason


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_podman_build_is_rejected(scenario: str) -> None:
    verdict = judge(load("podman_build"), scenario)
    assert verdict == CommitVerdict(
        False,
        "ourfiglet was built from a Dockerfile by Podman (buildah) (top history entry: RUN "
        "mkdir -p /usr/bin && echo figlet > /usr/bin/figlet), not committed from a container",
    )


def test_podman_build_beside_the_commits_evidence_is_still_a_build() -> None:
    commit, build = load("podman_commit"), load("podman_build")
    verdict = detect_commit(
        build["image"], build["history"], build["base"], commit["containers"],
        [parse_event(e) for e in commit["events"] + build["events"]],
        name="ourfiglet", base_name="rec-base",
    )  # fmt: skip
    assert not verdict.committed


def test_podman_commit_of_another_image_without_the_base() -> None:
    doc = load("podman_commit")
    verdict = detect_commit(
        doc["image"], doc["history"], None, [], [], name="ourfiglet", base_name="ubuntu"
    )
    assert verdict == CommitVerdict(
        False,
        "ourfiglet was committed from a container of localhost/rec-base:latest, not of ubuntu",
    )


def test_podman_import_is_no_commit() -> None:
    """``podman import`` (how rec-base was made) writes its own comment over an ADD."""
    base = load("podman_commit")["base"]
    history = [
        {
            "CreatedBy": "/bin/sh -c #(nop) ADD file:12bb in /",
            "Comment": "imported from tarball",
        }
    ]
    verdict = detect_commit(base, history, None, [], [], name="ourfiglet", base_name="ubuntu")
    assert verdict == CommitVerdict(
        False, "ourfiglet was imported from a tarball (docker import), not committed"
    )
