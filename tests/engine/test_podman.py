"""The lab done with ``podman`` in place of ``docker``, graded through Podman's compat socket.

The model student types the lab's lines with that one word changed, into Debian's rootful
podman (its own storage and network namespace: :mod:`devlab.podman`); ``grade`` reads
``podman system service`` as it reads Docker (``DOCKER_HOST=unix://...``). A completed lab
gets full marks, and each spoiled step fails its own check, with its message, as on Docker.

Podman logs no ``resize``, so there a ``--rm`` run without ``-t`` cannot be told from one
with it: ``ubuntu.interactive`` accepts it (Event.records_terminals), as it must not fail
every Podman host.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from devlab import podman
from devlab.host import reset_lab
from devlab.model_student import (
    HELLO_DOCKERFILE,
    MYSQL_PASSWORD,
    TWEET_DOCKERFILE,
    ModelStudent,
)
from tests.engine.conftest import Graded
from tests.engine.spoil import assert_only

pytestmark = [pytest.mark.engine, pytest.mark.podman]

RUN_MYDB = (
    "docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD=my-secret-pw mysql:latest"
)
FULL_MARKS = 28


def untag(name: str) -> str:
    """``podman image untag NAME NAME``: with no second NAME, Podman drops every name."""
    return f"podman image untag {name} {name}"


class PodmanLab:
    """The model student's completed lab on the suite's Podman, and ``grade`` on it."""

    def __init__(self, student: ModelStudent, client: docker.DockerClient) -> None:
        self.student = student
        self.client = client

    def grade_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(HOME=str(self.student.home), DOCKERID=self.student.dockerid, NO_COLOR="1")
        env.update(podman.PodmanHost().grade_env())
        return env

    def grade(self, *args: str) -> Graded:
        """``grade --json ARGS`` in the Podman namespace, where 127.0.0.1:80 is its port 80."""
        done = subprocess.run(
            podman.in_netns([sys.executable, "-m", "grader.cli", "--json", *args]),
            env=self.grade_env(),
            cwd=self.student.home,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Graded(done.returncode, done.stdout, done.stderr)

    def sh(self, command: str, **kwargs: object) -> str:
        """A lab line, typed with ``podman``."""
        return self.student.sh(command, **kwargs)  # type: ignore[arg-type]

    def replace_mydb(self, command: str) -> None:
        self.sh("docker container rm --force mydb")
        self.sh(command)

    def restore_mydb(self) -> None:
        self.replace_mydb(RUN_MYDB)
        self.student.wait_for_mysql()


@pytest.fixture(scope="session")
def podman_lab(
    engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PodmanLab]:
    """The lab done once with ``podman``; the Podman lab is emptied again afterwards."""
    podman.ensure_podman(engine)
    with podman.service():
        client = podman.client()
        student = podman.PodmanHost().student(tmp_path_factory.mktemp("podman-home"))
        reset_lab(client)
        try:
            student.do_the_lab()
            yield PodmanLab(student, client)
        finally:
            reset_lab(client)
            client.close()


def test_the_lab_typed_with_podman(podman_lab: PodmanLab) -> None:
    typed = podman_lab.student.typed
    assert "podman container run alpine hostname" in typed
    assert not any(line.startswith("docker ") for line in typed)


def test_a_completed_podman_lab_gets_full_marks(podman_lab: PodmanLab) -> None:
    graded = podman_lab.grade()
    assert graded.doc["max_score"] == FULL_MARKS
    assert len(graded.doc["checks"]) == 17
    assert graded.failing == set(), {c: graded.message(c) for c in graded.failing}
    assert graded.doc["score"] == FULL_MARKS
    assert graded.doc["engine"]["version"] == podman_lab.client.version()["Version"]  # Podman's


def test_step_1_2_is_seen_in_podmans_events(podman_lab: PodmanLab) -> None:
    graded = podman_lab.grade("task1")
    assert graded.checks["ubuntu.interactive"]["status"] == "passed", graded.message(
        "ubuntu.interactive"
    )


# -- Task 1 ------------------------------------------------------------------------------


def test_alpine_ran_another_command(podman_lab: PodmanLab) -> None:
    """Podman's one-word command shape must not hide a command that is not hostname."""
    podman_lab.sh("docker container rm $(docker container ls -a -q --filter name=spoiled-) || true")
    alpine = podman_lab.sh("docker container ls -a -q --filter ancestor=docker.io/library/alpine")
    podman_lab.sh(f"docker container rm {' '.join(alpine.split())}")
    podman_lab.sh("docker container run --name spoiled-exit alpine sh -c 'exit 3' || true")
    try:
        graded = podman_lab.grade("task1")
        assert "alpine.hostname" in graded.failing
        assert "ran 'sh -c exit 3'" in graded.message("alpine.hostname")
        podman_lab.sh("docker container rm spoiled-exit")
        graded = podman_lab.grade("task1")
        assert "found no container of the alpine image" in graded.message("alpine.hostname")
    finally:
        podman_lab.sh("docker container rm --force spoiled-exit || true")
        podman_lab.student.step_1_1()
    assert "alpine.hostname" not in podman_lab.grade("task1").failing


def test_interactive_run_without_rm(podman_lab: PodmanLab) -> None:
    """Podman keeps its events in a file: rotated away, step 1.2 is gone as after a restart."""
    log = Path("/run/libpod/events/events.log")
    aside = log.with_suffix(".spoiled")
    shutil.move(log, aside)
    try:
        podman_lab.student.interactive("docker container run -it ubuntu bash", ["exit"])
        graded = podman_lab.grade("task1")
        assert graded.failing == {"ubuntu.interactive"}
        assert "was not removed (--rm)" in graded.message("ubuntu.interactive")
    finally:
        newer = log.read_bytes() if log.exists() else b""
        shutil.move(aside, log)
        with log.open("ab") as events:
            events.write(newer)
        podman_lab.sh("docker container rm $(docker container ls -a -q --latest)")


def test_mydb_stopped(podman_lab: PodmanLab) -> None:
    podman_lab.sh("docker container stop mydb")
    try:
        graded = podman_lab.grade("task1")
        assert graded.failing == {"mydb.running", "mydb.version"}
        assert "mydb is exited" in graded.message("mydb.running")
        assert graded.checks["mydb.running"]["hint"] == "docker container start mydb"
    finally:
        podman_lab.sh("docker container start mydb")
        podman_lab.student.wait_for_mysql()


def test_mydb_attached_from_another_image_without_a_root_password(podman_lab: PodmanLab) -> None:
    podman_lab.sh(
        "printf 'FROM mysql:latest\\nLABEL org.example.version=8.0\\n' "
        "| docker image build -q -t mysql:8.0 -"
    )
    podman_lab.sh("docker container rm --force mydb")
    attached = subprocess.Popen(
        [
            "bash",
            "-c",
            "podman container run --name mydb -e MYSQL_ALLOW_EMPTY_PASSWORD=yes mysql:8.0",
        ],
        env=podman_lab.student.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        podman_lab.student.wait_for_mysql()
        os.killpg(attached.pid, signal.SIGKILL)  # the student closes the terminal; mydb goes on
        attached.wait()
        graded = podman_lab.grade("task1")
        assert graded.failing == {
            "mydb.image",
            "mydb.password",
            "mydb.detached",
        }, {c: graded.message(c) for c in graded.failing}
        assert "mysql:8.0, not mysql:latest" in graded.message("mydb.image")
        assert "sets MYSQL_ALLOW_EMPTY_PASSWORD instead" in graded.message("mydb.password")
        assert graded.message("mydb.detached") == (
            "mydb was started attached to your terminal, not with --detach"
        )
    finally:
        if attached.poll() is None:
            os.killpg(attached.pid, signal.SIGKILL)
            attached.wait()
        podman_lab.restore_mydb()
        podman_lab.sh("docker image rm mysql:8.0")


def test_mysql_refuses_the_root_password(podman_lab: PodmanLab) -> None:
    change_root_password = (
        'mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --execute="'
        "ALTER USER 'root'@'localhost' IDENTIFIED BY 'changed'; "
        "ALTER USER 'root'@'%' IDENTIFIED BY 'changed'\""
    )
    podman_lab.sh(f"docker exec mydb sh -c {shlex.quote(change_root_password)}")
    try:
        graded = podman_lab.grade("task1")
        assert graded.failing == {"mydb.version"}
        assert "did not answer a query with the root password" in graded.message("mydb.version")
    finally:
        podman_lab.restore_mydb()


# -- Task 2 ------------------------------------------------------------------------------


def test_tweet_dockerfile_missing_instructions(podman_lab: PodmanLab) -> None:
    dockerfile = podman_lab.student.tweet_app / "Dockerfile"
    dockerfile.write_text(
        'FROM nginx:latest\nCOPY index.html /usr/share/nginx/html\nCMD ["nginx"]\n'
    )
    try:
        graded = podman_lab.grade("task2")
        assert_only(graded, {"tweet.dockerfile"}, tweet_dockerfile="no COPY of linux.png")
    finally:
        dockerfile.write_text(TWEET_DOCKERFILE)


def test_tweet_image_not_built_from_the_dockerfile(podman_lab: PodmanLab) -> None:
    built = podman_lab.client.api.inspect_image("modelstudent/linux_tweet_app:1.0")["Id"]
    podman_lab.sh("docker image tag nginx:latest $DOCKERID/linux_tweet_app:2.0")
    # podman image rm --force would remove the running container too: untag, as Docker's does
    podman_lab.sh(untag("localhost/$DOCKERID/linux_tweet_app:1.0"))
    try:
        graded = podman_lab.grade("task2")
        assert_only(graded, {"tweet.image"}, tweet_image="was not built from your Dockerfile")
        assert "443/tcp" in graded.message("tweet.image")
    finally:
        podman_lab.sh(f"docker image tag {built} $DOCKERID/linux_tweet_app:1.0")
        podman_lab.sh(untag("localhost/$DOCKERID/linux_tweet_app:2.0"))


def test_tweet_published_on_another_port(podman_lab: PodmanLab) -> None:
    podman_lab.sh("docker container rm --force linux_tweet_app")
    podman_lab.sh(
        "docker container run --detach --publish 8080:80 --name linux_tweet_app "
        "$DOCKERID/linux_tweet_app:1.0"
    )
    try:
        assert_only(
            podman_lab.grade("task2"),
            {"tweet.published", "tweet.serves"},
            tweet_published="on host port 8080, not 80",
            tweet_serves="nothing answers at",
        )
    finally:
        podman_lab.sh("docker container rm --force linux_tweet_app")
        podman_lab.student.step_2_3()


def test_tweet_page_changed_in_the_container(podman_lab: PodmanLab) -> None:
    podman_lab.sh(
        "docker exec linux_tweet_app sh -c 'echo defaced > /usr/share/nginx/html/index.html'"
    )
    try:
        assert_only(
            podman_lab.grade("task2"),
            {"tweet.serves"},
            tweet_serves="does not serve your index.html",
        )
    finally:
        podman_lab.sh("docker container rm --force linux_tweet_app")
        podman_lab.student.step_2_3()
    assert_only(podman_lab.grade("task2"), set())


# -- Task 3 ------------------------------------------------------------------------------


@pytest.fixture
def ourfiglet(podman_lab: PodmanLab) -> Iterator[str]:
    """The student's committed ourfiglet, tagged ourfiglet again after the test."""
    image_id = podman_lab.client.api.inspect_image("ourfiglet")["Id"]
    yield image_id
    podman_lab.sh(f"docker image tag {image_id} ourfiglet")
    assert_only(podman_lab.grade("task3"), set())


def test_ourfiglet_missing(podman_lab: PodmanLab, ourfiglet: str) -> None:
    podman_lab.sh(f"docker image tag {ourfiglet} spoiled:keep")
    podman_lab.sh(untag("localhost/ourfiglet:latest"))
    try:
        assert_only(
            podman_lab.grade("task3"),
            {"figlet.image", "figlet.committed", "figlet.runs"},
            figlet_image="found no image tagged ourfiglet",
        )
    finally:
        podman_lab.sh(untag("localhost/spoiled:keep"))


def test_ourfiglet_built_from_a_dockerfile(
    podman_lab: PodmanLab, ourfiglet: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM ubuntu\nRUN apt-get update && apt-get install -y figlet\n"
    )
    podman_lab.sh("docker image build --tag ourfiglet .", cwd=tmp_path)
    assert_only(
        podman_lab.grade("task3"),
        {"figlet.committed"},
        figlet_committed="built from a Dockerfile by Podman (buildah)",
    )


def test_ourfiglet_committed_without_figlet(podman_lab: PodmanLab, ourfiglet: str) -> None:
    podman_lab.sh("docker container run --name spoiled-plain ubuntu touch /notes.txt")
    image = podman_lab.sh("docker container commit spoiled-plain").strip()
    podman_lab.sh(f"docker image tag {image} ourfiglet")
    try:
        graded = podman_lab.grade("task3")
        assert_only(graded, {"figlet.runs"}, figlet_runs="exited with code 127")
    finally:
        podman_lab.sh("docker container rm spoiled-plain")


# -- Task 4 ------------------------------------------------------------------------------


@pytest.fixture
def hello(podman_lab: PodmanLab, tmp_path: Path) -> Iterator[Path]:
    """A copy of the student's hello folder to spoil; hello:v0.1 tagged back afterwards."""
    image_id = podman_lab.client.api.inspect_image("hello:v0.1")["Id"]
    folder = tmp_path / "hello"
    shutil.copytree(podman_lab.student.hello_dir, folder)
    yield folder
    podman_lab.sh(f"docker image tag {image_id} hello:v0.1")
    assert_only(podman_lab.grade("task4"), set())


def test_hello_dockerfile_without_workdir(podman_lab: PodmanLab, hello: Path) -> None:
    (hello / "Dockerfile").write_text(HELLO_DOCKERFILE.replace("WORKDIR /app\n", ""))
    graded = podman_lab.grade("task4", "--hello-dir", str(hello))
    assert_only(graded, {"hello.dockerfile"}, hello_dockerfile="no WORKDIR /app")


def test_hello_image_without_workdir(podman_lab: PodmanLab, hello: Path) -> None:
    """Built from another Dockerfile (its RUN layer cached): only the image's check fails."""
    (hello / "Dockerfile").write_text(
        HELLO_DOCKERFILE.replace("WORKDIR /app\n", "").replace(
            'CMD ["node","index.js"]', 'CMD ["node","/app/index.js"]'
        )
    )
    podman_lab.sh("docker image build -t hello:v0.1 .", cwd=hello)
    graded = podman_lab.grade("task4", "--hello-dir", str(podman_lab.student.hello_dir))
    assert_only(graded, {"hello.image"}, hello_image="its working directory is /, not /app")


def test_hello_printing_something_else(podman_lab: PodmanLab, hello: Path) -> None:
    (hello / "index.js").write_text('console.log("hello world");\n')
    podman_lab.sh("docker image build -t hello:v0.1 .", cwd=hello)
    graded = podman_lab.grade("task4", "--hello-dir", str(podman_lab.student.hello_dir))
    assert_only(graded, {"hello.runs"}, hello_runs="printed 'hello world', expected 'hello from ")


def test_podman_runs_apart_from_docker(podman_lab: PodmanLab, engine: docker.DockerClient) -> None:
    """Its own storage: the Docker engine never sees Podman's lab, nor Podman Docker's."""
    podman_names = {n for c in podman_lab.client.api.containers(all=True) for n in c["Names"]}
    docker_ids = {c["Id"] for c in engine.api.containers(all=True)}
    assert "/mydb" in podman_names
    assert not docker_ids & {c["Id"] for c in podman_lab.client.api.containers(all=True)}
    assert podman_lab.client.info()["DockerRootDir"] == str(podman.STATE_DIR / "storage")
    assert MYSQL_PASSWORD not in podman_lab.grade("task1").stdout


def test_watch_is_not_set_off_by_its_own_exec_into_mydb(podman_lab: PodmanLab) -> None:
    """Podman's exec events do not say what ran: grading's own ``mysql`` exec into mydb set
    off the next grading, and that one the next (12 gradings in 15 s, before the fix)."""
    started_ns = time.time_ns()  # restore_mydb's own execs (waiting for mysql) came before
    watch = subprocess.Popen(
        podman.in_netns([sys.executable, "-m", "grader.cli", "--watch", "--json", "task1"]),
        env=podman_lab.grade_env(),
        cwd=podman_lab.student.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(10)
    finally:
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, err
    api = podman_lab.client.api
    since = str(started_ns // 1_000_000_000)
    answer = api._get(api._url("/events"), params={"since": since, "stream": "false"})
    events = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
    execs = [e for e in events if e.get("Action") == "exec" and e["timeNano"] >= started_ns]
    assert len(execs) == 1, f"{len(execs)} execs into mydb: it graded {len(execs)} times"
    assert len(out.splitlines()) == 1, out


# -- grade start and grade finish on Podman (last here: finish empties the lab) ----------


def lab_command(podman_lab: PodmanLab, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        podman.in_netns([sys.executable, "-m", "grader.cli", *args]),
        env=podman_lab.grade_env(), cwd=podman_lab.student.home,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_start_on_podman_names_what_the_lab_left(podman_lab: PodmanLab) -> None:
    done = lab_command(podman_lab, "start")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "engine: Podman Engine" in done.stdout
    lines = [line.strip() for line in done.stdout.splitlines() if "problem:" in line]
    assert any(line.startswith("problem: a container mydb (") for line in lines), lines
    assert any("image localhost/ourfiglet:latest is left" in line for line in lines), lines


def test_finish_on_podman_removes_the_labs_objects_only(podman_lab: PodmanLab) -> None:
    podman_lab.sh("docker container run --detach --name my-own-box ubuntu sleep 600")
    try:
        done = lab_command(podman_lab, "finish", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        names = {c["Names"][0].lstrip("/") for c in podman_lab.client.api.containers(all=True)}
        assert "my-own-box" in names
        assert names & {"mydb", "linux_tweet_app"} == set()
        tags = {t for i in podman_lab.client.api.images() for t in i.get("RepoTags") or []}
        assert not {t for t in tags if "ourfiglet" in t or "hello:v0.1" in t}, tags
        assert not (podman_lab.student.home / "hello").exists()
    finally:
        podman_lab.sh("docker container rm --force my-own-box")
