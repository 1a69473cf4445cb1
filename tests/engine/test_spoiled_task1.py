"""Task 1's checks on a real engine: each spoiled step fails exactly its check, and says why."""

from __future__ import annotations

import signal
import subprocess

import pytest

from devlab.host import flood_events
from devlab.model_student import MYSQL_PASSWORD
from tests.engine.spoil import assert_only, containers_made_from, remove_containers, wait_running

pytestmark = pytest.mark.engine

RUN_MYDB = (
    "docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD=my-secret-pw mysql:latest"
)


def replace_mydb(student, command: str) -> None:
    student.sh("docker container rm --force mydb")
    student.sh(command)


def restore_mydb(student) -> None:
    replace_mydb(student, RUN_MYDB)
    student.wait_for_mysql()


def test_alpine_container_removed(completed_lab, engine, grade) -> None:
    remove_containers(engine, containers_made_from(engine, "alpine"))
    try:
        graded = grade("--json")
        assert_only(
            graded, {"alpine.hostname"}, alpine_hostname="found no container of the alpine image"
        )
        assert graded.checks["alpine.hostname"]["hint"] == "docker container run alpine hostname"
    finally:
        completed_lab.step_1_1()


def test_hostname_run_from_another_image(completed_lab, engine, grade) -> None:
    remove_containers(engine, containers_made_from(engine, "alpine"))
    completed_lab.sh("docker container run ubuntu hostname")
    try:
        assert_only(
            grade("--json"), {"alpine.hostname"}, alpine_hostname="from image ubuntu, not alpine"
        )
    finally:
        remove_containers(
            engine,
            [
                c
                for c in containers_made_from(engine, "ubuntu")
                if engine.api.inspect_container(c)["Path"] == "hostname"
            ],
        )
        completed_lab.step_1_1()


def test_alpine_hostname_that_failed(completed_lab, engine, grade) -> None:
    remove_containers(engine, containers_made_from(engine, "alpine"))
    completed_lab.sh("docker container run alpine hostname --no-such-option || true")
    completed_lab.sh("docker container run alpine sh -c 'exit 3' || true")
    try:
        assert_only(grade("--json"), {"alpine.hostname"}, alpine_hostname="ran 'sh -c exit 3'")
    finally:
        remove_containers(engine, containers_made_from(engine, "alpine"))
        completed_lab.step_1_1()


def test_interactive_run_lost_from_the_event_history(completed_lab, engine, grade) -> None:
    flood_events(engine)
    try:
        assert_only(
            grade("--json"),
            {"ubuntu.interactive"},
            ubuntu_interactive="only reaches back to",
        )
        completed_lab.sh("docker container run --rm ubuntu bash")
        assert_only(
            grade("--json"), {"ubuntu.interactive"}, ubuntu_interactive="without a terminal"
        )
    finally:
        completed_lab.step_1_2()
    assert_only(grade("--json"), set())


def test_mydb_stopped(completed_lab, grade) -> None:
    completed_lab.sh("docker container stop mydb")
    try:
        graded = grade("--json")
        assert_only(
            graded,
            {"mydb.running", "mydb.version"},
            mydb_running="mydb is exited",
            mydb_version="mydb is exited, so mysql cannot be asked",
        )
        assert graded.checks["mydb.running"]["hint"] == "docker container start mydb"
    finally:
        completed_lab.sh("docker container start mydb")
        completed_lab.wait_for_mysql()


def test_mydb_without_a_password_exits_at_once(completed_lab, grade) -> None:
    replace_mydb(completed_lab, "docker container run --detach --name mydb mysql:latest")
    try:
        subprocess.run(["docker", "container", "wait", "mydb"], capture_output=True, timeout=60)
        graded = grade("--json")
        assert_only(
            graded,
            {"mydb.running", "mydb.password", "mydb.version"},
            mydb_running="stops at once when MYSQL_ROOT_PASSWORD is not set",
            mydb_password="no MYSQL_ROOT_PASSWORD",
        )
        assert graded.checks["mydb.running"]["hint"].startswith("docker container rm --force mydb")
    finally:
        restore_mydb(completed_lab)


def test_mydb_blocked_by_a_port_conflict(completed_lab, grade) -> None:
    completed_lab.sh("docker container rm --force mydb")
    subprocess.run(
        "docker container run --detach --name mydb --publish 80:3306 "
        "-e MYSQL_ROOT_PASSWORD=my-secret-pw mysql:latest",
        shell=True,
        capture_output=True,
        check=False,
    )
    try:
        assert_only(
            grade("--json"),
            {"mydb.running", "mydb.version"},
            mydb_running="was created but is not running",
        )
    finally:
        restore_mydb(completed_lab)


def test_mydb_from_another_mysql_image(completed_lab, grade) -> None:
    completed_lab.sh(
        "printf 'FROM mysql:latest\\nLABEL org.example.version=8.0\\n' "
        "| docker image build -q -t mysql:8.0 -"
    )
    replace_mydb(completed_lab, RUN_MYDB.replace("mysql:latest", "mysql:8.0"))
    try:
        completed_lab.wait_for_mysql()
        assert_only(
            grade("--json"), {"mydb.image"}, mydb_image="created from mysql:8.0, not mysql:latest"
        )
    finally:
        restore_mydb(completed_lab)
        completed_lab.sh("docker image rm mysql:8.0")


@pytest.mark.parametrize("reference", ["mysql", "IMAGE_ID"])
def test_mydb_from_mysql_latest_by_another_name_counts(
    completed_lab, grade, engine, reference
) -> None:
    if reference == "IMAGE_ID":
        reference = engine.api.inspect_image("mysql:latest")["Id"]
    replace_mydb(completed_lab, RUN_MYDB.replace("mysql:latest", reference))
    try:
        completed_lab.wait_for_mysql()
        assert_only(grade("--json"), set())
    finally:
        restore_mydb(completed_lab)


def test_mydb_with_an_empty_password_allowed(completed_lab, grade) -> None:
    replace_mydb(
        completed_lab,
        "docker container run --detach --name mydb -e MYSQL_ALLOW_EMPTY_PASSWORD=yes mysql:latest",
    )
    try:
        completed_lab.wait_for_mysql()
        assert_only(
            grade("--json"),
            {"mydb.password"},
            mydb_password="sets MYSQL_ALLOW_EMPTY_PASSWORD instead of MYSQL_ROOT_PASSWORD",
        )
    finally:
        restore_mydb(completed_lab)


def test_mydb_started_attached(completed_lab, grade) -> None:
    completed_lab.sh("docker container rm --force mydb")
    attached = subprocess.Popen(
        [
            "docker",
            "container",
            "run",
            "--name",
            "mydb",
            "-e",
            f"MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD}",
            "mysql:latest",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_running("mydb")
        attached.send_signal(signal.SIGKILL)  # the student closes the terminal; mydb goes on
        attached.wait()
        completed_lab.wait_for_mysql()
        assert_only(
            grade("--json"),
            {"mydb.detached"},
            mydb_detached="mydb was started attached (stdout, stderr), not with --detach",
        )
    finally:
        restore_mydb(completed_lab)


def test_mysql_refuses_the_root_password(completed_lab, grade) -> None:
    change_root_password = (
        'mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --execute="'
        "ALTER USER 'root'@'localhost' IDENTIFIED BY 'changed'; "
        "ALTER USER 'root'@'%' IDENTIFIED BY 'changed'\""
    )
    subprocess.run(["docker", "exec", "mydb", "sh", "-c", change_root_password], check=True)
    try:
        assert_only(
            grade("--json"),
            {"mydb.version"},
            mydb_version="the server did not answer a query with the root password",
        )
    finally:
        restore_mydb(completed_lab)


def test_a_container_named_mydb2_is_not_mydb(completed_lab, grade) -> None:
    completed_lab.sh("docker container rename mydb mydb2")
    try:
        graded = grade("--json")
        mydb_checks = {c for c in graded.checks if c.startswith("mydb.")}
        assert_only(graded, mydb_checks, mydb_running="found no container named mydb")
    finally:
        completed_lab.sh("docker container rename mydb2 mydb")


def test_hostname_run_from_an_image_built_on_alpine(completed_lab, engine, grade) -> None:
    """``--filter ancestor=alpine`` would count it: hello:v0.1 is built on alpine."""
    remove_containers(engine, containers_made_from(engine, "alpine"))
    completed_lab.sh("docker container run --name spoiled-hello hello:v0.1 hostname")
    try:
        assert_only(
            grade("--json"), {"alpine.hostname"},
            alpine_hostname="ran hostname, but from image hello:v0.1, not alpine",
        )  # fmt: skip
    finally:
        completed_lab.sh("docker container rm spoiled-hello")
        completed_lab.step_1_1()
