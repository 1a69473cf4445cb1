"""The remote lab hosts that ``grade --host ssh://...`` is tested against, proven with plain ssh.

Each good host is its own engine behind its own sshd, with the lab done; each bad host fails
the way a TA's terminal would show it. If these fail, a failing ``--host`` test says nothing
about the grader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from devlab.model_student import TWEET_INDEX_HTML
from devlab.remote import (
    RemoteHost,
    RemoteHosts,
    engine_client,
    grade_locally,
    restore,
    run_in_netns,
    spoil,
)

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]


def ssh(host: RemoteHost, *remote: str, timeout: float = 30, **kwargs: object):
    """Plain ``ssh`` with the suite's config, as a TA types it."""
    options = tuple(f"-o{key}={value}" for key, value in kwargs.items())
    return subprocess.run(
        host.ssh_command(*remote, options=options),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def engine_id(host: RemoteHost) -> str:
    """The engine's ID read through its local socket, not through ssh."""
    client = engine_client(host)
    try:
        return str(client.info()["ID"])
    finally:
        client.close()


def test_each_engine_answers_over_ssh_as_itself(
    remote_hosts: RemoteHosts, engine: docker.DockerClient
) -> None:
    ids = {}
    for host in (remote_hosts.complete, remote_hosts.spoiled):
        done = ssh(host, "docker info --format '{{.ID}} {{.Name}}'")
        assert done.returncode == 0, done.stderr
        ids[host.name] = engine_id(host)
        assert done.stdout.split() == [ids[host.name], host.netns]
    assert len({*ids.values(), engine.info()["ID"]}) == 3, "every host is an engine of its own"


def test_docker_system_dial_stdio_reaches_the_engine_over_ssh(remote_hosts: RemoteHosts) -> None:
    """What docker-py's ``ssh://`` transport runs on the far side."""
    host = remote_hosts.complete
    done = subprocess.run(
        host.ssh_command("docker", "system", "dial-stdio"),
        input="GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout.startswith("HTTP/1.0 200 OK"), done.stdout + done.stderr
    assert done.stdout.endswith("OK")


def test_the_ssh_config_uses_only_the_suites_files(remote_hosts: RemoteHosts) -> None:
    config = remote_hosts.ssh_config.read_text()
    assert f"UserKnownHostsFile {remote_hosts.known_hosts}" in config
    assert f"IdentityFile {remote_hosts.identity_file}" in config
    assert "/root/.ssh" not in config
    assert remote_hosts.complete.ssh_url() == "ssh://grade-complete@10.231.1.2:2222"
    known = remote_hosts.known_hosts.read_text()
    assert "[10.231.1.2]:2222 ssh-ed25519 " in known
    assert "[10.231.2.2]:2222 ssh-ed25519 " in known


def test_the_students_files_are_theirs_over_ssh(remote_hosts: RemoteHosts) -> None:
    host = remote_hosts.complete
    done = ssh(host, "stat -c %U ~/linux_tweet_app/index.html; cat ~/linux_tweet_app/index.html")
    assert done.returncode == 0, done.stderr
    owner, _, text = done.stdout.partition("\n")
    assert owner == host.user
    assert text == TWEET_INDEX_HTML


@pytest.mark.parametrize("name", ["complete", "spoiled"])
def test_port_80_in_the_hosts_namespace_serves_the_tweet_app(
    remote_hosts: RemoteHosts, name: str
) -> None:
    host: RemoteHost = getattr(remote_hosts, name)
    for url in (f"http://{host.address}/", "http://localhost/"):
        done = run_in_netns(host, f"curl --silent --show-error --max-time 10 {url}", as_root=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout == TWEET_INDEX_HTML


def test_local_grading_of_the_complete_host_gives_full_marks(remote_hosts: RemoteHosts) -> None:
    host = remote_hosts.complete
    done = grade_locally(host)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert (doc["score"], doc["max_score"]) == (28, 28)
    assert doc["engine"]["id"] == engine_id(host)


def test_local_grading_of_the_spoiled_host_fails_just_the_spoiled_checks(
    remote_hosts: RemoteHosts,
) -> None:
    host = remote_hosts.spoiled
    done = grade_locally(host)
    doc = json.loads(done.stdout)
    failing = {check["id"] for check in doc["checks"] if check["status"] != "passed"}
    assert done.returncode == 1, done.stderr
    assert failing == host.failing_checks == {"mydb.running", "mydb.version"}
    assert doc["score"] == 25


def test_spoil_and_restore_round_trip(remote_hosts: RemoteHosts) -> None:
    """On the spoiled host, so the complete one stays complete for everyone else."""
    host = remote_hosts.spoiled
    restore(host, "mydb_stopped")
    try:
        restored = json.loads(grade_locally(host, "task1").stdout)["checks"]
    finally:
        spoil(host, "mydb_stopped")
    assert [(c["id"], c["message"]) for c in restored if c["status"] != "passed"] == []
    checks = json.loads(grade_locally(host, "task1").stdout)["checks"]
    assert {c["id"] for c in checks if c["status"] != "passed"} == host.failing_checks


def test_the_socket_group_decides_who_may_use_docker(remote_hosts: RemoteHosts) -> None:
    allowed = run_in_netns(remote_hosts.complete, "docker container inspect -f '{{.Name}}' mydb")
    assert allowed.stdout.strip() == "/mydb", allowed.stderr
    denied = run_in_netns(remote_hosts.no_permission, "docker container ls")
    assert denied.returncode != 0
    assert "permission denied while trying to connect to the Docker daemon socket" in denied.stderr


@pytest.mark.parametrize(
    ("name", "exit_code"),
    [("refused", 255), ("no_permission", 1), ("no_docker", 127), ("unreachable", 255)],
)
def test_a_bad_host_fails_plain_ssh_the_way_it_should(
    remote_hosts: RemoteHosts, name: str, exit_code: int
) -> None:
    host: RemoteHost = getattr(remote_hosts, name)
    done = ssh(host, "docker", "info", "--format", "{{.ID}}", ConnectTimeout=5)
    assert done.returncode == exit_code, done.stderr
    assert host.fails_with and host.fails_with in done.stderr, done.stderr


def test_the_stalling_host_accepts_then_never_answers(remote_hosts: RemoteHosts) -> None:
    host = remote_hosts.stalls
    started = time.monotonic()
    done = ssh(host, "true", ConnectTimeout=2)
    elapsed = time.monotonic() - started
    assert done.returncode == 255
    assert host.fails_with and host.fails_with in done.stderr, done.stderr
    assert 1.5 < elapsed < 10, f"ssh gave up after {elapsed:.1f} s"


def test_the_hanging_host_logs_in_then_its_docker_never_answers(
    remote_hosts: RemoteHosts,
) -> None:
    host = remote_hosts.hangs
    logged_in = ssh(host, "echo in", ConnectTimeout=5)
    assert (logged_in.returncode, logged_in.stdout) == (0, "in\n"), logged_in.stderr
    with pytest.raises(subprocess.TimeoutExpired):
        ssh(host, "docker", "version", timeout=3, ConnectTimeout=5)


def test_a_second_session_reuses_the_hosts(remote_hosts: RemoteHosts) -> None:
    def pids() -> list[str]:
        run = Path("/run/grade-test-hosts")
        files = ["complete/dockerd.pid", "spoiled/dockerd.pid", "complete/sshd.pid", "stall.pid"]
        return [(run / name).read_text().strip() for name in files]

    before = pids()
    started = time.monotonic()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "devlab.remote"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert pids() == before, "a warm run restarted something"
    assert elapsed < 20, f"a warm run took {elapsed:.1f} s"
    listed = [json.loads(line)["ssh_url"] for line in done.stdout.splitlines()]
    assert listed == [host.ssh_url() for host in remote_hosts]
