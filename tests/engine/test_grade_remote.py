"""``grade --host`` and ``grade --hosts`` against real lab machines behind SSH.

The hosts (devlab/remote/) are engines of their own in network namespaces of
their own, each behind its own sshd: one with the lab complete, one with mydb stopped,
and ways of failing (a refused key, no permission on the socket, no docker, nothing
listening, a server that accepts and then stalls).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devlab.remote import RemoteHost, RemoteHosts, grade_locally, keep_history

pytestmark = pytest.mark.engine

GRADE = [sys.executable, "-m", "grader.cli"]


def run(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``grade`` as a TA on this machine runs it (their own $DOCKERID is no student's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(NO_COLOR="1", DOCKERID="the-ta")
    return subprocess.run(
        [*GRADE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def over_ssh(hosts: RemoteHosts, host: RemoteHost, *args: str) -> subprocess.CompletedProcess[str]:
    return run("--host", host.ssh_url(), "--ssh-config", str(hosts.ssh_config), *args)


def statuses(stdout: str) -> dict[str, str]:
    return {check["id"]: check["status"] for check in json.loads(stdout)["checks"]}


@pytest.fixture
def hosts(remote_hosts: RemoteHosts) -> RemoteHosts:
    for host in (remote_hosts.complete, remote_hosts.spoiled):
        keep_history(host)  # many gradings push step 1.2 out of an engine's history
    return remote_hosts


@pytest.mark.parametrize("name", ["complete", "spoiled"])
def test_over_ssh_the_verdicts_are_those_of_grading_on_the_host(
    hosts: RemoteHosts, name: str
) -> None:
    host: RemoteHost = getattr(hosts, name)
    remote = over_ssh(hosts, host, "--json")
    local = grade_locally(host)
    assert remote.returncode == local.returncode == (0 if name == "complete" else 1), remote.stderr
    assert statuses(remote.stdout) == statuses(local.stdout)
    failing = {cid for cid, status in statuses(remote.stdout).items() if status != "passed"}
    assert failing == set(host.failing_checks)
    doc = json.loads(remote.stdout)
    assert doc["engine"]["name"] == f"grade-{name}"  # that host's engine, not this machine's


def test_the_web_check_looks_at_the_hosts_port_80_not_ours(hosts: RemoteHosts, engine) -> None:
    host = hosts.complete
    stop = subprocess.run(
        ["docker", "-H", host.docker_host or "", "stop", "linux_tweet_app"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert stop.returncode == 0, stop.stderr
    try:
        graded = over_ssh(hosts, host, "--json", "task2")
    finally:
        subprocess.run(["docker", "-H", host.docker_host or "", "start", "linux_tweet_app"],
                       capture_output=True, check=False)  # fmt: skip
    checks = {check["id"]: check for check in json.loads(graded.stdout)["checks"]}
    assert checks["tweet.serves"]["status"] == "failed"
    assert (
        f"http://localhost/ on {host.user}@{host.address}:{host.port}"
        in (checks["tweet.serves"]["message"])
    )


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("refused", "refused the SSH key"),
        ("no_permission", "permission denied on the Docker engine of"),
        ("no_docker", "no Docker on"),
        ("unreachable", "Connection refused"),
        ("stalls", "timed out during banner exchange"),
    ],
)
def test_a_host_that_cannot_be_graded_is_one_line_and_exit_2(
    hosts: RemoteHosts, name: str, says: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    graded = over_ssh(hosts, getattr(hosts, name), "--junit", str(report))
    assert graded.returncode == 2
    assert graded.stderr.count("\n") == 1 and graded.stderr.startswith("grade: ")
    assert says in graded.stderr
    assert "Traceback" not in graded.stderr
    assert 'name="grading_error"' in report.read_text()  # the report is written all the same


def test_an_unknown_host_key_is_never_accepted_silently(hosts: RemoteHosts, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    config = tmp_path / "ssh_config"
    config.write_text(hosts.ssh_config.read_text().replace(str(hosts.known_hosts), str(known)))
    url = hosts.complete.ssh_url()
    refused = run("--host", url, "--ssh-config", str(config), "--json", "task1")
    assert refused.returncode == 2
    assert "host key" in refused.stderr and "--accept-new-host-keys" in refused.stderr
    assert known.read_text() == ""
    accepted = run(
        "--host", url, "--ssh-config", str(config), "--accept-new-host-keys", "--json", "task1"
    )
    assert accepted.returncode == 0, accepted.stderr
    host = f"[{hosts.complete.address}]:{hosts.complete.port}"
    found = subprocess.run(["ssh-keygen", "-F", host, "-f", str(known)], capture_output=True)
    assert found.returncode == 0  # accepted, as ssh's accept-new does: remembered


def class_file(tmp_path: Path, hosts: RemoteHosts, *names: str) -> Path:
    path = tmp_path / "class.csv"
    rows = [f"s-{name},{getattr(hosts, name).ssh_url()}" for name in names]
    path.write_text("student_id,host\n" + "\n".join(rows) + "\n")
    return path


def summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open() as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_a_class_each_host_with_its_own_result(hosts: RemoteHosts, tmp_path: Path) -> None:
    names = ("complete", "spoiled", "refused", "unreachable", "stalls")
    out = tmp_path / "out"
    started = time.monotonic()
    graded = run(
        "--hosts", str(class_file(tmp_path, hosts, *names)), "--ssh-config", str(hosts.ssh_config),
        "--out", str(out), "--parallel", "5", "--host-timeout", "120",
    )  # fmt: skip
    took = time.monotonic() - started
    assert graded.returncode == 2, graded.stderr
    rows = summary(out)
    assert rows["s-complete"]["status"] == "passed" and rows["s-complete"]["score"] == "28"
    assert rows["s-spoiled"]["status"] == "failed"
    assert set(rows["s-spoiled"]["failed_checks"].split()) == set(hosts.spoiled.failing_checks)
    assert rows["s-refused"]["status"] == "error" and "SSH key" in rows["s-refused"]["reason"]
    assert rows["s-unreachable"]["status"] == "error"
    assert rows["s-stalls"]["status"] == "error"  # ssh gives up on the banner after 10 s
    assert "banner exchange" in rows["s-stalls"]["reason"]
    for student in names:
        assert (out / f"s-{student}.xml").is_file()
        assert f"s-{student}" in graded.stdout  # the table lists every host
    assert took < 100, f"{took:.1f} s"


def test_a_hanging_host_is_stopped_at_its_limit(hosts: RemoteHosts, tmp_path: Path) -> None:
    out = tmp_path / "out"
    started = time.monotonic()
    graded = run(
        "--hosts", str(class_file(tmp_path, hosts, "stalls", "unreachable")),
        "--ssh-config", str(hosts.ssh_config), "--out", str(out), "--host-timeout", "6",
    )  # fmt: skip
    took = time.monotonic() - started
    assert graded.returncode == 2
    rows = summary(out)
    assert (rows["s-stalls"]["status"], rows["s-stalls"]["reason"]) == (
        "timeout", "did not finish within 6 s",
    )  # fmt: skip
    assert rows["s-unreachable"]["status"] == "error"  # graded beside it, not after it
    assert not (out / "s-stalls.xml").exists()
    assert took < 10, f"{took:.1f} s: the limit is 6 s, ssh alone would wait 10 and more"


def test_ctrl_c_stops_the_class_and_keeps_what_finished(hosts: RemoteHosts, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    process = subprocess.Popen(
        [*GRADE, "--hosts", str(class_file(tmp_path, hosts, "complete", "stalls")),
         "--ssh-config", str(hosts.ssh_config), "--out", str(out), "--parallel", "2",
         "--host-timeout", "120"],
        env={**env, "NO_COLOR": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60  # the complete host takes 3 to 7 s
    while not (out / "s-complete.xml").is_file() and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.2)
    if not (out / "s-complete.xml").is_file():  # say what the class run was doing
        process.kill()
        stdout, stderr = process.communicate(timeout=30)
        pytest.fail(
            f"the complete host was not graded within 60 s (exit {process.returncode}):\n"
            f"stdout:\n{stdout[-3000:]}\nstderr:\n{stderr[-3000:]}\n"
            f"out/: {sorted(p.name for p in out.iterdir()) if out.is_dir() else None}"
        )
    time.sleep(0.5)  # its grade process has exited and been read
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    rows = summary(out)
    assert rows["s-complete"]["status"] == "passed"
    assert rows["s-stalls"]["status"] == "interrupted"
    assert (out / "s-complete.xml").is_file()
