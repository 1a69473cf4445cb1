"""The storage and networks lab on the real engine: a fresh host fails every check with its
hint, the solution as a student types it passes every one, and ``grade lab selftest`` proves
each declared spoiler fails exactly its checks (the lab's spoil tests, through the command an
author runs).
"""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from checks.storage_networks import LAB
from devlab.model_student import ModelStudent
from tests.engine.conftest import run_grade
from tests.engine.test_lab_selftest import ENGINE, junit_cases, selftest

pytestmark = pytest.mark.engine

CHECKS = {
    "volume.created", "volume.data", "volume.outlived", "bind.mounted", "bind.served",
    "network.created", "network.by_name", "limits.memory", "limits.cpus",
}  # fmt: skip


def lab_objects(engine: docker.DockerClient) -> set[str]:
    """What of the lab's declared objects the engine holds."""
    cleanup = LAB.cleanup
    containers = {c["Names"][0].lstrip("/") for c in engine.api.containers(all=True)}
    volumes = {v["Name"] for v in engine.api.volumes().get("Volumes") or []}
    networks = {n["Name"] for n in engine.api.networks()}
    return (
        (containers & set(cleanup.containers))
        | (volumes & set(cleanup.volumes))
        | (networks & set(cleanup.networks))
    )


def finish(home: Path) -> None:
    done = run_grade("--lab", "storage_networks", "finish", "--yes", home=home)
    assert done.exit_code == 0, done.stdout + done.stderr


def test_a_fresh_host_fails_every_check_with_the_next_command(engine, tmp_path) -> None:
    finish(tmp_path)
    graded = run_grade("--lab", "storage_networks", "--json", home=tmp_path)
    assert graded.exit_code == 1, graded.stderr
    assert graded.doc["lab"] == "storage_networks"
    assert graded.failing == set(graded.checks) == CHECKS
    assert all(check["hint"].startswith("docker ") for check in graded.checks.values())
    assert graded.checks["volume.created"]["hint"] == "docker volume create notes"
    assert (graded.doc["score"], graded.doc["max_score"]) == (0, 17)


def test_the_solution_as_typed_passes_every_check(engine, tmp_path) -> None:
    finish(tmp_path)
    student = ModelStudent(tmp_path)
    try:
        for task in LAB.tasks:
            for action in task.solution:
                student.do(action)
        graded = run_grade("--lab", "storage_networks", "--json", home=tmp_path)
        assert graded.exit_code == 0, graded.stdout + graded.stderr
        assert graded.failing == set()
        assert (graded.doc["score"], graded.doc["max_score"]) == (17, 17)
        proved = {cid: {e["kind"] for e in c["evidence"]} for cid, c in graded.checks.items()}
        assert proved["volume.data"] == {"file"}  # the note's hash, read from the volume
        assert proved["bind.served"] == {"container", "file"}  # site, and the host's page
        assert proved["network.by_name"] == proved["limits.cpus"] == {"container"}
    finally:
        finish(tmp_path)
    assert lab_objects(engine) == set()
    assert not (tmp_path / "site").exists()


def test_the_lab_proves_itself_spoiler_by_spoiler(engine, tmp_path) -> None:
    junit = tmp_path / "storage_networks.xml"
    done = selftest("storage_networks", "-H", ENGINE, "--junit", str(junit), home=tmp_path)
    assert done.exit_code == 0, done.stdout + done.stderr
    scenarios = 2 + len(LAB.spoilers)  # the fresh host, the solution, each spoiler
    assert f"storage_networks: proved ({scenarios} scenarios" in done.stdout
    cases = junit_cases(junit)
    assert {spoiler.name for spoiler in LAB.spoilers} <= set(cases)
    assert set(cases.values()) == {"passed"}
    assert lab_objects(engine) == set()
