"""``grade`` end to end on the real engine: fresh host, no engine, no permission, secrets."""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from defusedxml import ElementTree

from devlab.host import flood_events, snapshot
from devlab.model_student import MYSQL_PASSWORD
from tests.engine.conftest import run_grade

pytestmark = pytest.mark.engine

ALL_CHECKS = {
    "alpine.hostname", "ubuntu.interactive", "mydb.running", "mydb.image", "mydb.password",
    "mydb.detached", "mydb.version", "tweet.dockerfile", "tweet.image", "tweet.published",
    "tweet.serves", "figlet.image", "figlet.committed", "figlet.runs", "hello.dockerfile",
    "hello.image", "hello.runs",
}  # fmt: skip


def test_a_fresh_host_fails_every_check_saying_what_is_missing(fresh_host, tmp_path) -> None:
    flood_events(fresh_host)
    graded = run_grade("--json", home=tmp_path)
    assert graded.exit_code == 1
    assert graded.failing == ALL_CHECKS
    assert graded.doc["score"] == 0
    assert "found no container of the alpine image" in graded.message("alpine.hostname")
    assert "found no container named mydb" in graded.message("mydb.running")
    assert "found no Dockerfile at" in graded.message("tweet.dockerfile")
    assert "found no image modelstudent/linux_tweet_app" in graded.message("tweet.image")
    assert "found no image tagged ourfiglet" in graded.message("figlet.image")
    assert "found no image hello:v0.1" in graded.message("hello.dockerfile")
    assert all(check["status"] == "failed" for check in graded.checks.values())
    waiting = {cid: check["waits_on"] for cid, check in graded.checks.items() if check["waits_on"]}
    assert waiting == {
        **dict.fromkeys(("mydb.image", "mydb.password", "mydb.detached", "mydb.version"),
                        "mydb.running"),
        "figlet.committed": "figlet.image", "figlet.runs": "figlet.image",
        "hello.image": "hello.dockerfile", "hello.runs": "hello.dockerfile",
    }  # fmt: skip
    # For people, at 80 columns: each problem once, and the one next step last (the tables:
    # with no terminal, grade would choose the plain form, tests/engine/test_plain.py).
    tables = run_grade("--no-plain", home=tmp_path, env={"COLUMNS": "80"})
    problems = [line for line in tables.stdout.splitlines() if line.startswith("  ✘ ")]
    assert len(problems) == len(ALL_CHECKS) - len(waiting) == 9
    assert "also waiting on this: mydb.image, mydb.password, mydb.detached, mydb.version" in (
        tables.stdout
    )
    last = [line for line in tables.stdout.splitlines() if line.strip()][-2:]
    assert last == [
        "Next step: alpine.hostname (alpine ran hostname and exited)",
        "  docker container run alpine hostname",
    ]


def test_the_table_shows_each_task_and_the_next_command(completed_lab, grade, engine) -> None:
    engine.api.stop("mydb")
    try:
        graded = grade("--no-plain")
    finally:
        engine.api.start("mydb")
        completed_lab.wait_for_mysql()
    assert graded.exit_code == 1
    for heading in ("Task 1: Run some simple containers", "Task 4: Image creation using a"):
        assert heading in graded.stdout
    assert "mydb.running: mydb is exited" in graded.stdout
    assert "try: docker container start mydb" in graded.stdout
    assert "Score: 25/28" in graded.stdout
    assert "\x1b[" not in graded.stdout  # no colour when not on a terminal


def test_only_the_tasks_named_are_graded(completed_lab, grade) -> None:
    graded = grade("--json", "task3")
    assert {c["task"] for c in graded.doc["checks"]} == {"task3"}
    assert graded.doc["max_score"] == 5


def test_an_unknown_task_is_a_one_line_error(completed_lab, grade) -> None:
    graded = grade("task9")
    assert graded.exit_code == 2
    assert graded.stderr.strip().count("\n") == 0
    assert "unknown task 'task9'" in graded.stderr


def test_the_rubric_file_overrides_points(completed_lab, grade, tmp_path) -> None:
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[points]\n"alpine.hostname" = 5\n')
    graded = grade("--json", "--rubric", str(rubric), "task1")
    assert graded.checks["alpine.hostname"]["max_points"] == 5
    assert graded.doc["max_score"] == 12


def test_grade_toml_settings_and_their_precedence(completed_lab, grade, tmp_path) -> None:
    (tmp_path / "grade.toml").write_text('dockerid = "someoneelse"\n')
    from_file = grade("--json", "task2", cwd=tmp_path, env={"DOCKERID": ""})
    assert "someoneelse/linux_tweet_app" in from_file.message("tweet.image")
    from_env = grade("--json", "task2", cwd=tmp_path)  # $DOCKERID beats grade.toml
    assert from_env.failing == set()
    (tmp_path / "grade.toml").write_text("dockerid = 3\n")
    bad = grade("--json", cwd=tmp_path, env={"DOCKERID": ""})
    assert bad.exit_code == 2 and "grade.toml: dockerid must be" in bad.stderr


def test_grading_leaves_the_host_as_it_found_it(completed_lab, engine, grade) -> None:
    before = snapshot(engine)
    assert grade("--json").exit_code == 0
    assert snapshot(engine) == before


def test_the_mysql_password_appears_nowhere(completed_lab, grade, tmp_path) -> None:
    report = tmp_path / "report.xml"
    outputs = [grade("--junit", str(report)), grade("--json")]
    for graded in outputs:
        assert MYSQL_PASSWORD not in graded.stdout + graded.stderr
    assert MYSQL_PASSWORD not in report.read_text()


def test_the_junit_report_has_a_testcase_per_check(completed_lab, grade, tmp_path, engine) -> None:
    report = tmp_path / "report.xml"
    graded = grade("--junit", str(report), "--json")
    assert graded.exit_code == 0
    suite = ElementTree.parse(report).getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == ALL_CHECKS
    assert cases["mydb.version"].get("classname") == "task1"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["lab"] == "docker_beginners"
    assert properties["engine_id"] == engine.info()["ID"]
    assert properties["checks_digest"].startswith("sha256:")
    assert properties["points.figlet.committed"] == "2/2"
    assert properties["report_id"] and properties["created"] and properties["grader_version"]


def test_no_engine_is_a_one_line_error_and_still_a_report(tmp_path) -> None:
    report = tmp_path / "report.xml"
    graded = run_grade(
        "--junit", str(report), home=tmp_path,
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
    )  # fmt: skip
    assert graded.exit_code == 2
    assert graded.stdout == ""
    assert graded.stderr.count("\n") == 1
    assert graded.stderr.startswith("grade: cannot reach the Docker engine at unix://")
    assert "Traceback" not in graded.stderr
    suite = ElementTree.parse(report).getroot().find("testsuite")
    errors = [case for case in suite.iter("testcase") if case.find("error") is not None]
    assert len(errors) == len(ALL_CHECKS)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert "cannot reach the Docker engine" in properties["grading_error"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run grade as another user")
def test_no_permission_on_the_socket_is_a_one_line_error(engine, runnable_by_other_users) -> None:
    socket = Path("/var/run/docker.sock")
    assert grp.getgrgid(socket.stat().st_gid) and socket.stat().st_mode & 0o007 == 0
    home = Path(tempfile.mkdtemp(prefix="grade-nobody-"))
    home.chmod(0o755)
    shutil.chown(home, "nobody")
    done = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, "-m", "grader.cli"],
        env={"PATH": os.environ["PATH"], "HOME": str(home)}, cwd=home,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("grade: permission denied on the Docker engine")
    assert "usermod -aG docker" in done.stderr


def test_a_hung_docker_exec_is_an_error_not_a_hang(completed_lab, grade, tmp_path) -> None:
    """mysql in mydb never answers: mydb.version errors out in time, the report is still written."""
    completed_lab.sh(
        'docker exec mydb sh -c \'printf "#!/bin/sh\\nsleep 600\\n" > /usr/local/bin/mysql '
        "&& chmod +x /usr/local/bin/mysql'"
    )
    (tmp_path / "grade.toml").write_text("check_timeout = 3\n")
    report = tmp_path / "report.xml"
    try:
        graded = grade("--json", "--junit", str(report), cwd=tmp_path)
        assert graded.exit_code == 1
        assert graded.failing == {"mydb.version"}
        version = graded.checks["mydb.version"]
        assert version["status"] == "error"
        assert version["message"] == "timed out after 3 s while asking mysql in mydb"
        suite = ElementTree.parse(report).getroot().find("testsuite")
        case = next(c for c in suite.iter("testcase") if c.get("name") == "mydb.version")
        assert case.find("error") is not None
    finally:
        completed_lab.sh("docker container rm --force mydb")
        completed_lab.step_1_3()


def test_grade_follows_the_docker_clis_current_context(completed_lab, grade, tmp_path) -> None:
    """As on Docker Desktop or colima: no DOCKER_HOST, the engine named by the current context."""
    socket = tmp_path / "engine.sock"
    socket.symlink_to("/var/run/docker.sock")
    env = {"DOCKER_CONFIG": str(tmp_path / "docker-config")}
    for command in (["create", "lab", "--docker", f"host=unix://{socket}"], ["use", "lab"]):
        subprocess.run(
            ["docker", "context", *command], env={**os.environ, **env}, check=True,
            capture_output=True,
        )  # fmt: skip
    assert grade("--json", env=env).exit_code == 0
    socket.unlink()
    gone = grade("--json", env=env)
    assert gone.exit_code == 2
    assert f"cannot reach the Docker engine at unix://{socket}" in gone.stderr
