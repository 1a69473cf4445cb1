"""Task 3's checks on a real engine, beyond its declared spoilers: variants that must still
pass, and spoils that need a ``grade`` option or more than one message to assert.

Each spoiled step of the lab is a declared spoiler (checks/docker_beginners/spoilers.py),
proved by ``grade lab selftest`` in tests/engine/test_lab_selftest.py.
"""

from __future__ import annotations

import shutil

import pytest

from tests.engine.spoil import assert_only, image_put_back

pytestmark = pytest.mark.engine

FIGLET_DOCKERFILE = "FROM ubuntu\nRUN apt-get update && apt-get install -y figlet\n"


@pytest.fixture
def committed(completed_lab, engine):
    """The student's committed ourfiglet image, put back after the test."""
    with image_put_back(completed_lab, engine, "ourfiglet") as image_id:
        yield image_id


@pytest.mark.skipif(not shutil.which("/usr/bin/docker"), reason="no Docker 20.10 CLI for BuildKit")
def test_ourfiglet_built_with_buildkit(completed_lab, committed, grade, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text(FIGLET_DOCKERFILE)
    completed_lab.sh("DOCKER_BUILDKIT=1 /usr/bin/docker build --tag ourfiglet .", cwd=tmp_path)
    assert_only(
        grade("--json"),
        {"figlet.committed"},
        figlet_committed="BuildKit",
    )


def test_podmans_localhost_name_counts(completed_lab, committed, grade) -> None:
    completed_lab.sh(f"docker image tag {committed} localhost/ourfiglet")
    completed_lab.sh("docker image rm ourfiglet")
    try:
        assert_only(grade("--json"), set())
    finally:
        completed_lab.sh(f"docker image tag {committed} ourfiglet")
        completed_lab.sh("docker image rm localhost/ourfiglet")
