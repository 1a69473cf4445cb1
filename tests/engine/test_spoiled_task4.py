"""Task 4's checks on a real engine, beyond its declared spoilers: variants that must still
pass, and spoils that need a ``grade`` option or more than one message to assert.

Each spoiled step of the lab is a declared spoiler (checks/docker_beginners/spoilers.py),
proved by ``grade lab selftest`` in tests/engine/test_lab_selftest.py.
"""

from __future__ import annotations

import shutil

import pytest

from devlab.model_student import HELLO_DOCKERFILE
from tests.engine.spoil import assert_only, image_put_back

pytestmark = pytest.mark.engine

UBUNTU_NODE_DOCKERFILE = (
    "FROM ubuntu\nRUN apt-get update && apt-get install -y nodejs\n"
    'COPY . /app\nWORKDIR /app\nCMD ["node","index.js"]\n'
)


@pytest.fixture
def built(completed_lab, engine):
    """The student's hello:v0.1, put back after the test."""
    with image_put_back(completed_lab, engine, "hello:v0.1") as image_id:
        yield image_id


def test_hello_folder_without_workdir(completed_lab, grade, tmp_path) -> None:
    folder = tmp_path / "hello"
    shutil.copytree(completed_lab.hello_dir, folder)
    (folder / "Dockerfile").write_text(HELLO_DOCKERFILE.replace("WORKDIR /app\n", ""))
    graded = grade("--json", "--hello-dir", str(folder))
    assert_only(graded, {"hello.dockerfile"}, hello_dockerfile="no WORKDIR /app")
    assert str(folder) in graded.message("hello.dockerfile")


def test_hello_script_printing_something_else(completed_lab, built, grade, tmp_path) -> None:
    folder = tmp_path / "other"
    shutil.copytree(completed_lab.hello_dir, folder)
    (folder / "index.js").write_text('console.log("hello world");\n')
    completed_lab.sh("docker image build -t hello:v0.1 .", cwd=folder)
    graded = grade("--json", "--hello-dir", str(completed_lab.hello_dir))
    assert_only(graded, {"hello.runs"}, hello_runs="printed 'hello world', expected 'hello from ")


def test_hello_built_on_ubuntu(completed_lab, built, grade, tmp_path) -> None:
    folder = tmp_path / "ubuntu"
    shutil.copytree(completed_lab.hello_dir, folder)
    (folder / "Dockerfile").write_text(UBUNTU_NODE_DOCKERFILE)
    completed_lab.sh("docker image build -t hello:v0.1 .", cwd=folder)
    graded = grade("--json", "--hello-dir", str(completed_lab.hello_dir))
    assert_only(graded, {"hello.image"}, hello_image="not built on the local alpine image")
    assert "no apk add nodejs" in graded.message("hello.image")
