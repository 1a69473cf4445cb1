"""``grade start``, ``grade finish`` and ``grade reset TASK`` on the real engine.

``start`` names each problem staged on the machine with its fix, exits 4, and changes
nothing; ``finish`` removes exactly the lab's objects (a container and an image of the
student's own survive, and so do the reports and the outbox); ``reset`` one task's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from devlab.host import snapshot
from tests.engine.conftest import Graded, LabState, run_grade

pytestmark = pytest.mark.engine

NOT_READY, NOT_CONFIRMED, UNKNOWN_TASK = 4, 5, 6


def problems(graded: Graded) -> list[str]:
    return [line.strip() for line in graded.stdout.splitlines() if "problem:" in line]


@pytest.fixture
def foreign(engine: docker.DockerClient) -> Iterator[tuple[str, str]]:
    """A container and an image of the student's own, named like nothing of the lab's."""
    subprocess.run(
        "docker container run --detach --name my-own-box ubuntu sleep 600 && printf "
        "'FROM alpine\\nLABEL mine=yes\\n' | docker image build -q -t my-own-image:1 -",
        shell=True, check=True, capture_output=True,
    )  # fmt: skip
    yield "my-own-box", "my-own-image:1"
    with contextlib.suppress(docker.errors.NotFound):
        engine.api.remove_container("my-own-box", force=True)
    with contextlib.suppress(docker.errors.NotFound):
        engine.api.remove_image("my-own-image:1")


# -- grade start ---------------------------------------------------------------------------


def test_start_on_a_ready_machine_says_ready_and_changes_nothing(fresh_host, tmp_path) -> None:
    before = snapshot(fresh_host)
    graded = run_grade("start", home=tmp_path)
    assert graded.exit_code == 0, graded.stdout + graded.stderr
    assert problems(graded) == []
    assert "engine: Docker Engine" in graded.stdout and "Ready" in graded.stdout
    assert snapshot(fresh_host) == before


def test_start_names_the_container_holding_port_80(fresh_host, tmp_path) -> None:
    fresh_host.api.start(
        fresh_host.api.create_container(
            "nginx:latest", name="webserver",
            host_config=fresh_host.api.create_host_config(port_bindings={80: 80}),
        )
    )  # fmt: skip
    try:
        before = snapshot(fresh_host)
        graded = run_grade("start", home=tmp_path)
        assert graded.exit_code == NOT_READY
        assert problems(graded) == [
            "problem: port 80 is taken by container webserver (nginx:latest): "
            "docker container stop webserver"
        ]
        assert snapshot(fresh_host) == before
    finally:
        fresh_host.api.remove_container("webserver", force=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="port 80 needs root")
def test_start_names_the_host_process_holding_port_80(fresh_host, tmp_path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "80", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while b":0050 " not in Path("/proc/net/tcp").read_bytes():
            assert time.monotonic() < deadline, "http.server did not listen"
            time.sleep(0.1)
        graded = run_grade("start", home=tmp_path)
        assert graded.exit_code == NOT_READY
        (line,) = problems(graded)
        assert line.startswith(f"problem: port 80 is taken by process {server.pid} (python")
        assert line.endswith(f"on this machine: stop it (sudo kill {server.pid})")
    finally:
        server.terminate()
        server.wait()


def test_start_names_what_an_earlier_try_left(fresh_host, tmp_path) -> None:
    subprocess.run(
        "docker container run --detach --name mydb alpine sleep 600 "
        "&& docker image tag alpine ourfiglet",
        shell=True, check=True, capture_output=True,
    )  # fmt: skip
    try:
        before = snapshot(fresh_host)
        graded = run_grade("start", home=tmp_path)
        assert graded.exit_code == NOT_READY
        lines = problems(graded)
        assert (
            "problem: a container mydb (alpine) is left from an earlier try: "
            "docker container rm --force mydb  (or grade finish)"
        ) in lines
        assert any("image ourfiglet:latest is left" in line and "docker image rm" in line
                   for line in lines)  # fmt: skip
        assert len(lines) == 2, lines
        assert snapshot(fresh_host) == before
    finally:
        fresh_host.api.remove_container("mydb", force=True)
        fresh_host.api.remove_image("ourfiglet")


def test_start_without_a_docker_id_says_how_to_set_it(fresh_host, tmp_path) -> None:
    graded = run_grade("start", home=tmp_path, env={"DOCKERID": ""})
    assert graded.exit_code == NOT_READY
    assert problems(graded) == [
        'problem: DOCKERID is not set (your docker id): export DOCKERID=... (or dockerid = "..." '
        "in grade.toml)"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs another user than root")
def test_start_without_permission_on_the_socket(engine, runnable_by_other_users) -> None:
    home = Path(tempfile.mkdtemp(prefix="grade-nobody-"))
    shutil.chown(home, "nobody")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOCKER_"))}
        env.update(HOME=str(home), DOCKERID="modelstudent")
        grade = str(Path(sys.executable).with_name("grade"))
        done = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", grade, "start"],
            env=env, cwd=home, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == NOT_READY, done.stdout + done.stderr
        lines = [line for line in done.stdout.splitlines() if "problem:" in line]
        assert len(lines) == 1 and "permission denied on the Docker engine" in lines[0]
        assert "sudo usermod -aG docker $USER" in lines[0]
    finally:
        shutil.rmtree(home, ignore_errors=True)


# -- grade finish ----------------------------------------------------------------------


def test_finish_removes_exactly_the_labs_objects(
    completed_lab, engine, student_home, foreign
) -> None:
    data = Path(tempfile.mkdtemp(prefix=".grade-data-", dir=student_home))
    outbox = data / "grade" / "outbox"
    outbox.mkdir(parents=True)
    (outbox / "1-waiting.xml").write_text("<testsuites/>")
    report = student_home / "report.xml"
    report.write_text("<testsuites/>")
    env = {"XDG_DATA_HOME": str(data)}
    LabState.complete = False  # whatever happens below, the next test does the lab again

    before = snapshot(engine)
    refused = run_grade("finish", home=student_home, env=env)  # no terminal, no --yes
    assert refused.exit_code == NOT_CONFIRMED
    assert "add --yes" in refused.stderr
    assert "container mydb (mysql:latest)" in refused.stdout
    assert snapshot(engine) == before

    done = run_grade("finish", "--yes", home=student_home, env=env)
    assert done.exit_code == 0, done.stdout + done.stderr
    names = {c["Names"][0].lstrip("/") for c in engine.api.containers(all=True)}
    tags = {tag for image in engine.api.images() for tag in image.get("RepoTags") or []}
    assert names & {"mydb", "linux_tweet_app"} == set()
    assert not [c for c in engine.api.containers(all=True) if c["Image"] in ("alpine", "ubuntu")
                and c["Command"] in ("hostname", "bash")]  # fmt: skip
    assert {"ourfiglet:latest", "hello:v0.1", "modelstudent/linux_tweet_app:1.0"} & tags == set()
    assert not (student_home / "hello").exists() and not (student_home / "linux_tweet_app").exists()
    # the student's own, and what grade keeps, survive
    container, image = foreign
    assert container in names and image in tags
    assert {"alpine:latest", "ubuntu:latest", "mysql:latest", "nginx:latest"} <= tags
    assert report.exists() and (outbox / "1-waiting.xml").exists()
    again = run_grade("finish", "--yes", home=student_home, env=env)
    assert again.exit_code == 0 and "nothing to remove" in again.stdout


# -- grade reset -------------------------------------------------------------------------


def test_reset_removes_one_tasks_objects(completed_lab, engine, student_home, grade) -> None:
    LabState.complete = False
    done = run_grade("reset", "task3", "--yes", home=student_home)
    assert done.exit_code == 0, done.stdout + done.stderr
    tags = {tag for image in engine.api.images() for tag in image.get("RepoTags") or []}
    assert "ourfiglet:latest" not in tags and "hello:v0.1" in tags
    graded = grade("--json")
    assert graded.failing == {"figlet.image", "figlet.committed", "figlet.runs"}
    completed_lab.step_3_3(completed_lab.step_3_1())
    completed_lab.step_3_4()
    assert grade("--json").failing == set()
    LabState.complete = True


def test_reset_of_an_unknown_task_names_the_tasks(engine, tmp_path) -> None:
    done = run_grade("reset", "task9", "--yes", home=tmp_path)
    assert done.exit_code == UNKNOWN_TASK
    assert done.stderr.strip() == (
        "grade: no task 'task9' in lab docker_beginners (tasks: task1, task2, task3, task4)"
    )
