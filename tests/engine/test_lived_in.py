"""Lived-in hosts on the real engine: step 1.2 remembered once seen, and a host with
hundreds of containers and tags graded as the clean one is.

Each test starts from the completed lab with a data folder of its own, and puts back what
it changed (the lived-in objects go, step 1.2 is done again) before the next one.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import docker
import pytest

from tests.engine.spoil import assert_only, containers_made_from
from tests.lab.host import flood_events
from tests.lab.lived_in import LivedIn, live_in, tidy

pytestmark = pytest.mark.engine


def data_home(tmp_path: Path, name: str = "data") -> dict[str, str]:
    return {"XDG_DATA_HOME": str(tmp_path / name)}


def memory_file(tmp_path: Path, engine: docker.DockerClient, name: str = "data") -> Path:
    engine_id = engine.api.info()["ID"]
    return tmp_path / name / "grade" / "remembered" / f"{engine_id.replace(':', '-')}.json"


def test_step_1_2_seen_once_counts_after_the_engine_forgot_it(
    completed_lab, engine, grade, tmp_path: Path
) -> None:
    try:
        first = grade("--json", "task1", env=data_home(tmp_path))
        assert first.checks["ubuntu.interactive"]["status"] == "passed", first.stdout
        assert first.message("ubuntu.interactive") == ""  # the engine itself still shows it
        (proof,) = first.checks["ubuntu.interactive"]["evidence"]
        # what is remembered is the engine's own report of that container, word for word
        reported = [
            e
            for e in engine.api.events(since=0, until=f"{time.time():.9f}", decode=True)
            if (e.get("Actor") or {}).get("ID") == proof["id"]
        ]
        kept = json.loads(memory_file(tmp_path, engine).read_text())["events"]
        assert [record["event"] for record in kept] == reported
        assert {e["Action"] for e in reported} >= {"create", "attach", "start", "destroy"}

        flood_events(engine)
        later = grade("--json", "task1", env=data_home(tmp_path))
        assert later.checks["ubuntu.interactive"]["status"] == "passed", later.stdout
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        assert f"seen on {today} by an earlier grade" in later.message("ubuntu.interactive")
        assert later.checks["ubuntu.interactive"]["evidence"] == [proof]
        assert later.checks["ubuntu.interactive"]["points"] == 1

        # without the memory, the engine's history alone no longer shows the step
        assert_only(
            grade("--json", "task1", env=data_home(tmp_path, "no-memory")),
            {"ubuntu.interactive"},
            ubuntu_interactive="only reaches back to",
        )
    finally:
        completed_lab.step_1_2()


def _forged(container_id: str, image: str, actions: tuple[str, ...]) -> list[dict]:
    start = time.time_ns() - 3600 * 10**9
    return [
        {
            "Type": "container",
            "Action": action,
            "Actor": {"ID": container_id, "Attributes": {"image": image, "name": "forged"}},
            "scope": "local",
            "time": start // 10**9,
            "timeNano": start + i * 1000,
        }
        for i, action in enumerate(actions)
    ]


STEP_1_2 = ("create", "attach", "start", "resize", "die", "destroy")


def test_a_hand_edited_memory_passes_nothing_the_check_would_not(
    completed_lab, engine, grade, tmp_path: Path
) -> None:
    """Text is no memory; events are judged as the engine's are (what it cannot prove: a
    well-formed ubuntu run made up by hand, see grader/engine/remembered.py)."""
    path = memory_file(tmp_path, engine)
    path.parent.mkdir(parents=True)
    engine_id = engine.api.info()["ID"]
    mydb = engine.api.inspect_container("mydb")["Id"]

    def remembered(*events: dict) -> None:
        records = [{"seen": datetime.now(UTC).isoformat(), "event": e} for e in events]
        path.write_text(json.dumps({"version": 1, "engine": engine_id, "events": records}))

    flood_events(engine)
    try:
        for text in ("ubuntu.interactive passed", "{"):
            path.write_text(text)
            graded = grade("--json", "task1", env=data_home(tmp_path))
            assert_only(graded, {"ubuntu.interactive"}, ubuntu_interactive="only reaches back")
            assert "Traceback" not in graded.stderr
        cases = {
            "of alpine": (_forged("a" * 64, "alpine", STEP_1_2), "no interactive --rm run"),
            "still listed": (_forged(mydb, "ubuntu", STEP_1_2), "no interactive --rm run"),
            "no terminal": (
                _forged("b" * 64, "ubuntu", ("create", "attach", "start", "die", "destroy")),
                "ran with --rm but without a terminal",
            ),
            "another engine": (
                _forged("c" * 64, "ubuntu", STEP_1_2),
                "only reaches back",
            ),
        }
        for case, (events, says) in cases.items():
            remembered(*events)
            if case == "another engine":
                document = json.loads(path.read_text())
                path.write_text(json.dumps({**document, "engine": "SOME:OTHER:ENGINE"}))
            graded = grade("--json", "task1", env=data_home(tmp_path))
            assert graded.failing == {"ubuntu.interactive"}, case
            assert says in graded.message("ubuntu.interactive"), (case, graded.stdout)
    finally:
        completed_lab.step_1_2()


def test_an_unwritable_data_folder_changes_nothing(completed_lab, grade, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    graded = grade("--json", env={"XDG_DATA_HOME": str(blocked)})
    assert_only(graded, set())
    assert graded.stderr == ""


def test_a_lived_in_host_is_graded_as_the_clean_one(
    completed_lab, engine, grade, tmp_path: Path
) -> None:
    """The lab, one grade, then enough short runs to push step 1.2 out of the history,
    tags and idle containers: every check still passes, on the lab's own objects."""
    clean = grade("--json", env=data_home(tmp_path))
    assert_only(clean, set())
    (step_1_1,) = containers_made_from(engine, "alpine")
    how = LivedIn(runs=60, tags=40, idle=5)
    try:
        live_in(engine, how)
        lived_in = grade("--json", env=data_home(tmp_path))
        assert_only(lived_in, set())
        assert "seen on" in lived_in.message("ubuntu.interactive")
        hostname_proof = {e["id"] for e in lived_in.checks["alpine.hostname"]["evidence"]}
        assert step_1_1 in hostname_proof
        for check in ("figlet.committed", "tweet.published", "mydb.running"):
            assert lived_in.checks[check]["evidence"] == clean.checks[check]["evidence"], check
    finally:
        tidy(engine, how)
        completed_lab.step_1_2()
