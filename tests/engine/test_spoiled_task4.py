"""Task 4's checks on a real engine: each spoiled step fails exactly its check, and says why."""

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


def test_hello_read_from_the_image_when_no_folder_is_given(
    completed_lab, built, grade, tmp_path
) -> None:
    folder = tmp_path / "other"
    shutil.copytree(completed_lab.hello_dir, folder)
    (folder / "index.js").write_text('console.log("hello world");\n')
    completed_lab.sh("docker image build -t hello:v0.1 .", cwd=folder)
    graded = grade("--json")
    assert_only(
        graded,
        {"hello.dockerfile", "hello.runs"},
        hello_dockerfile='hello:v0.1:/app: index.js does not print "hello from " + the hostname',
    )


def test_hello_built_on_ubuntu(completed_lab, built, grade, tmp_path) -> None:
    folder = tmp_path / "ubuntu"
    shutil.copytree(completed_lab.hello_dir, folder)
    (folder / "Dockerfile").write_text(UBUNTU_NODE_DOCKERFILE)
    completed_lab.sh("docker image build -t hello:v0.1 .", cwd=folder)
    graded = grade("--json", "--hello-dir", str(completed_lab.hello_dir))
    assert_only(graded, {"hello.image"}, hello_image="not built on the local alpine image")
    assert "no apk add nodejs" in graded.message("hello.image")


def test_hello_image_missing(completed_lab, built, grade) -> None:
    completed_lab.sh(f"docker image tag {built} spoiled:hello")
    completed_lab.sh("docker image rm hello:v0.1")
    try:
        assert_only(
            grade("--json"),
            {"hello.dockerfile", "hello.image", "hello.runs"},
            hello_image="found no image hello:v0.1",
        )
    finally:
        completed_lab.sh(f"docker image tag {built} hello:v0.1")
        completed_lab.sh("docker image rm spoiled:hello")
