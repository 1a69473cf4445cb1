"""Task 3's checks on a real engine: each spoiled step fails exactly its check, and says why."""

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


def test_ourfiglet_missing(completed_lab, committed, grade) -> None:
    completed_lab.sh(f"docker image tag {committed} spoiled:keep")
    completed_lab.sh("docker image rm ourfiglet")
    try:
        graded = grade("--json")
        assert_only(
            graded,
            {"figlet.image", "figlet.committed", "figlet.runs"},
            figlet_image="found no image tagged ourfiglet",
        )
    finally:
        completed_lab.sh(f"docker image tag {committed} ourfiglet")
        completed_lab.sh("docker image rm spoiled:keep")


def test_ourfiglet_built_from_a_dockerfile(completed_lab, committed, grade, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text(FIGLET_DOCKERFILE)
    completed_lab.sh("docker image build --tag ourfiglet .", cwd=tmp_path)
    assert_only(
        grade("--json"),
        {"figlet.committed"},
        figlet_committed="not committed from a container",
    )


@pytest.mark.skipif(not shutil.which("/usr/bin/docker"), reason="no Docker 20.10 CLI for BuildKit")
def test_ourfiglet_built_with_buildkit(completed_lab, committed, grade, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text(FIGLET_DOCKERFILE)
    completed_lab.sh("DOCKER_BUILDKIT=1 /usr/bin/docker build --tag ourfiglet .", cwd=tmp_path)
    assert_only(
        grade("--json"),
        {"figlet.committed"},
        figlet_committed="BuildKit",
    )


def test_ourfiglet_committed_without_figlet(completed_lab, committed, grade) -> None:
    completed_lab.sh("docker container run --name spoiled-plain ubuntu touch /notes.txt")
    image = completed_lab.sh("docker container commit spoiled-plain").strip()
    completed_lab.sh(f"docker image tag {image} ourfiglet")
    try:
        assert_only(grade("--json"), {"figlet.runs"}, figlet_runs="exited with code 127")
    finally:
        completed_lab.sh("docker container rm spoiled-plain")


def test_ourfiglet_committed_from_another_image(completed_lab, committed, grade) -> None:
    completed_lab.sh("docker container run --name spoiled-alpine alpine true")
    image = completed_lab.sh("docker container commit spoiled-alpine").strip()
    completed_lab.sh(f"docker image tag {image} ourfiglet")
    try:
        graded = grade("--json")
        assert_only(
            graded,
            {"figlet.committed", "figlet.runs"},
            figlet_committed="ubuntu",
        )
    finally:
        completed_lab.sh("docker container rm spoiled-alpine")


def test_podmans_localhost_name_counts(completed_lab, committed, grade) -> None:
    completed_lab.sh(f"docker image tag {committed} localhost/ourfiglet")
    completed_lab.sh("docker image rm ourfiglet")
    try:
        assert_only(grade("--json"), set())
    finally:
        completed_lab.sh(f"docker image tag {committed} ourfiglet")
        completed_lab.sh("docker image rm localhost/ourfiglet")
