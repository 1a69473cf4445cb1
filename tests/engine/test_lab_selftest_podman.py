"""``grade lab selftest`` on Podman: the tiny lab proves itself through Podman's compat
socket (devlab/podman.py), as it does on Docker (tests/engine/test_lab_selftest.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import docker
import pytest

from devlab import podman
from tests.engine.conftest import GRADE

pytestmark = [pytest.mark.engine, pytest.mark.podman]

REPO = Path(__file__).resolve().parents[2]


def test_the_tiny_lab_proves_itself_on_podman(engine: docker.DockerClient, tmp_path: Path) -> None:
    dist = tmp_path / "site" / "test_labs-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: test-labs\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[docker_lab_grader.labs]\ntiny = tests.labs.tiny:LAB\n")
    podman.ensure_podman(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOCKER_"))}
    env.update(HOME=str(tmp_path), NO_COLOR="1", PYTHONPATH=f"{dist.parent}:{REPO}")
    with podman.service() as docker_host:
        done = subprocess.run(
            [*GRADE, "lab", "selftest", "tiny", "-H", docker_host], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tiny: proved (4 scenarios" in done.stdout
    assert not (tmp_path / "motd.txt").exists()  # typed in a home of its own
