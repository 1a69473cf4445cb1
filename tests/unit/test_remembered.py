"""Remembered engine events: kept only as the engine reported them, read back only when
well formed, for the engine they belong to, and never a reason for grading to fail."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grader.engine.remembered import (
    MAX_ENGINES,
    MAX_EVENTS,
    EventMemory,
    event_key,
    memory_folder,
    well_formed,
)
from grader.engine.state import EngineState, EventHistory

ENGINE = "IYYM:HQX7:RNKZ:7ONG:LSUT:6T4M:2M3H:A2S7:W3V2:QQF4:JVER:BL46"
CONTAINER = "61dd7b4073bfcebe0657828558f6aa8534122c739f5ff5a4cfddeae66c8956f9"
OTHER = "f" * 64


def event(action: str, *, actor: str = CONTAINER, at: int | None = None, **extra: Any) -> dict:
    """A container event as Docker's ``/events`` returns it."""
    when = at if at is not None else time.time_ns() - 60_000_000_000
    raw = {
        "status": action,
        "id": actor,
        "from": "ubuntu",
        "Type": "container",
        "Action": action,
        "Actor": {"ID": actor, "Attributes": {"image": "ubuntu", "name": "hungry_wright"}},
        "scope": "local",
        "time": when // 1_000_000_000,
        "timeNano": when,
    }
    raw.update(extra)
    return raw


def step_1_2(start: int) -> list[dict]:
    """The events of ``run -it --rm ubuntu bash``, one microsecond apart."""
    actions = ("create", "attach", "start", "resize", "die", "destroy")
    return [event(action, at=start + i * 1000) for i, action in enumerate(actions)]


@pytest.fixture
def memory(tmp_path: Path) -> EventMemory:
    return EventMemory(tmp_path / "remembered", ENGINE)


def test_the_memory_lives_beside_the_outbox() -> None:
    environ = {"XDG_DATA_HOME": "/data", "HOME": "/home/ada"}
    assert memory_folder(environ) == Path("/data/grade/remembered")
    assert memory_folder({"HOME": "/home/ada"}) == Path("/home/ada/.local/share/grade/remembered")


def test_kept_events_come_back_as_reported_with_the_day_they_were_seen(
    memory: EventMemory,
) -> None:
    events = step_1_2(time.time_ns() - 3_600_000_000_000)
    seen = datetime.now(UTC).replace(microsecond=0)
    assert memory.keep(events, seen=seen)
    recalled = memory.recall()
    assert [r.event for r in recalled] == events
    assert {r.seen for r in recalled} == {seen}
    # one file per engine, named by its id: another engine remembers nothing of this one
    assert memory.path.name == ENGINE.replace(":", "-") + ".json"
    assert EventMemory(memory.path.parent, "OTHER:ENGINE").recall() == []


def test_keeping_the_same_events_again_adds_nothing_and_keeps_the_first_day(
    memory: EventMemory,
) -> None:
    events = step_1_2(time.time_ns() - 3_600_000_000_000)
    first = datetime.now(UTC).replace(microsecond=0)
    memory.keep(events, seen=first)
    memory.keep(events, seen=first + timedelta(days=3))
    assert [r.seen for r in memory.recall()] == [first] * len(events)


def test_only_container_events_shaped_as_the_engine_reports_them_are_kept(
    memory: EventMemory,
) -> None:
    now = time.time_ns()
    bad = [
        {**event("create"), "Type": "image"},
        event("create", actor="not-a-container-id"),
        event("create", at=now + 3_600_000_000_000),  # from the future
        {**event("create"), "timeNano": "1796172928548496857"},
        {**event("create"), "Actor": {"ID": CONTAINER, "Attributes": {"exitCode": 0}}},
        {**event("create"), "Action": ""},
        "create",
    ]
    assert not any(well_formed(raw, now_ns=now) for raw in bad)
    assert memory.keep(bad) is False
    assert not memory.path.exists()


def test_a_hand_edited_file_is_no_memory_rather_than_an_error(memory: EventMemory) -> None:
    good = step_1_2(time.time_ns() - 3_600_000_000_000)
    memory.keep(good)
    document = json.loads(memory.path.read_text())
    for text in ("not json {", "null", "[]", '{"engine": "' + ENGINE + '", "events": 3}'):
        memory.path.write_text(text)
        assert memory.recall() == []
    # the same events under another engine's id
    memory.path.write_text(json.dumps({**document, "engine": "SOME:OTHER"}))
    assert memory.recall() == []
    # records seen before their event happened, or seen at no time, are dropped one by one
    doctored = dict(document)
    doctored["events"] = [
        {"seen": "2001-01-01T00:00:00+00:00", "event": good[0]},
        {"seen": "yesterday", "event": good[1]},
        {"seen": "2099-01-01T00:00:00", "event": good[2]},  # no time zone
        {"seen": "2099-01-01T00:00:00+00:00", "event": good[3]},
        {"event": good[4]},
        "destroy",
    ]
    memory.path.write_text(json.dumps(doctored))
    assert [r.event for r in memory.recall()] == [good[3]]
    # a file too big to be ours
    memory.path.write_text(" " * 300_000 + json.dumps(document))
    assert memory.recall() == []


def test_an_unwritable_folder_means_no_memory_and_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    memory = EventMemory(blocked / "remembered", ENGINE)
    assert memory.keep(step_1_2(time.time_ns() - 10**12)) is False
    assert memory.recall() == []


def test_the_oldest_events_go_first_when_the_memory_is_full(memory: EventMemory) -> None:
    start = time.time_ns() - 10**15
    actors = MAX_EVENTS // 3 + 5
    for n in range(actors):
        actor = f"{n:064x}"
        memory.keep([event(a, actor=actor, at=start + n * 10**9) for a in ("create", "destroy")])
        memory.keep([event(a, actor=actor, at=start + n * 10**9 + 1) for a in ("attach",)])
    recalled = memory.recall()
    assert len(recalled) == MAX_EVENTS
    assert recalled[0].event["Actor"]["ID"] != f"{0:064x}"
    assert recalled[-1].event["Actor"]["ID"] == f"{actors - 1:064x}"


def test_engine_ids_become_safe_file_names(tmp_path: Path) -> None:
    for engine_id in ("../../etc/passwd", ".hidden", "a/b", "x" * 300):
        path = EventMemory(tmp_path, engine_id).path
        assert path.parent == tmp_path
        assert "/" not in path.name and not path.name.startswith(".")


def test_the_history_tells_remembered_events_from_the_engines_own() -> None:
    now = time.time_ns()
    old = step_1_2(now - 86_400 * 10**9)
    live = [event(a, actor=OTHER, at=now - 10**9 + i) for i, a in enumerate(("create", "start"))]
    seen = datetime(2026, 11, 30, 12, tzinfo=UTC)
    history = EventHistory([*old, *live], remembered={event_key(raw): seen for raw in old})
    assert list(history.of_containers()) == [OTHER]
    assert [e.action for e in history.of_containers(remembered=True)[CONTAINER]] == [
        "create", "attach", "start", "resize", "die", "destroy",
    ]  # fmt: skip
    assert history.seen_on(CONTAINER) == seen
    assert history.seen_on(OTHER) is None
    # only what the engine reported in this run may be remembered again
    assert history.reported_of(CONTAINER) == []
    assert history.reported_of(OTHER) == live
    # the engine's own history starts with its own oldest event, not with the memory's
    assert history.oldest == pytest.approx(live[0]["timeNano"] / 1e9)


def test_a_remembered_container_is_never_judged_with_the_engines_events_of_it() -> None:
    """A forged memory under a live container's id (mydb's, say) gains nothing from the
    engine's own events of that container (grade's ``docker exec`` into it)."""
    now = time.time_ns()
    forged = step_1_2(now - 3600 * 10**9)
    exec_now = event("exec_start", at=now - 10**9)
    history = EventHistory(
        [*forged, exec_now], remembered={event_key(r): datetime.now(UTC) for r in forged}
    )
    assert [e.action for e in history.of_containers()[CONTAINER]] == ["exec_start"]
    assert len(history.of_containers(remembered=True)[CONTAINER]) == len(forged)


def test_engines_not_written_to_for_longest_are_forgotten_first(tmp_path: Path) -> None:
    folder = tmp_path / "remembered"
    events = step_1_2(time.time_ns() - 10**12)
    first = EventMemory(folder, "ENGINE:0")
    first.keep(events)
    for n in range(1, MAX_ENGINES + 5):
        EventMemory(folder, f"ENGINE:{n}").keep(events)
        time.sleep(0.002)  # distinct modification times
    kept = sorted(p.name for p in folder.glob("*.json"))
    assert len(kept) == MAX_ENGINES
    assert not first.path.exists()
    assert f"ENGINE-{MAX_ENGINES + 4}.json" in kept


class _Api:
    """An engine API answering /version and /info as ``components`` and a fresh id say."""

    def __init__(self, components: list[str]) -> None:
        self.components = components
        self.infos = 0

    def version(self) -> dict[str, Any]:
        return {"Components": [{"Name": name} for name in self.components]}

    def info(self) -> dict[str, Any]:
        self.infos += 1
        return {"ID": f"random-{self.infos}"}  # Podman's: new on every call


class _Client:
    def __init__(self, components: list[str]) -> None:
        self.api = _Api(components)


@pytest.mark.parametrize(
    ("components", "remembers"),
    [(["Engine", "containerd"], True), (["Podman Engine", "Conmon"], False)],
)
def test_podman_keeps_no_memory_as_its_engine_id_changes_every_call(
    tmp_path: Path, components: list[str], remembers: bool
) -> None:
    state = EngineState(_Client(components), memory_folder=tmp_path)  # type: ignore[arg-type]
    assert (state.memory is not None) is remembers
