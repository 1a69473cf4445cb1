"""``grade reset TASK`` and ``grade finish`` over ``--host ssh://``: the lab's objects go
from the remote engine *and* the remote machine's files, through the SSH connection; a
container and a file of the student's own survive there, and nothing on this machine is
touched (a ``~/hello`` here is not the lab machine's).

They run on the suite's spoiled remote host (devlab/remote/), whose model student's lab is
done again afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devlab.remote import RemoteHost, RemoteHosts, redo_lab, run_in_netns
from tests.engine.conftest import Graded, run_grade

pytestmark = pytest.mark.engine

NOT_CONFIRMED = 5


@pytest.fixture
def host(remote_hosts: RemoteHosts) -> Iterator[RemoteHost]:
    """The spoiled host with a container and a file of its student's own; its lab redone
    after the test (finish removes it)."""
    host = remote_hosts.spoiled
    made = run_in_netns(
        host,
        "docker container run --detach --name my-own-box alpine sleep 600 "
        "&& echo mine > ~/my-notes.txt",
    )
    assert made.returncode == 0, made.stderr
    try:
        yield host
    finally:
        run_in_netns(host, "docker container rm --force my-own-box; rm -f ~/my-notes.txt")
        redo_lab(host)


def over_ssh(hosts: RemoteHosts, host: RemoteHost, home: Path, *args: str) -> Graded:
    return run_grade(
        *args, "--host", host.ssh_url(), "--ssh-config", str(hosts.ssh_config), home=home
    )


def remote(host: RemoteHost, command: str) -> str:
    done = run_in_netns(host, command)
    assert done.returncode == 0, done.stderr
    return done.stdout


def containers(host: RemoteHost) -> set[str]:
    return set(remote(host, "docker container ls -a --format '{{.Names}}'").split())


def tags(host: RemoteHost) -> set[str]:
    return set(remote(host, "docker image ls --format '{{.Repository}}:{{.Tag}}'").split())


def files(host: RemoteHost) -> set[str]:
    return set(remote(host, "ls -A ~").split())


def test_reset_and_finish_over_ssh_remove_the_remote_labs_objects_and_files(
    remote_hosts: RemoteHosts, host: RemoteHost, tmp_path: Path
) -> None:
    here = tmp_path / "hello"  # this machine's ~/hello: not the lab machine's
    here.mkdir()
    (here / "Dockerfile").write_text("FROM alpine\n")
    assert {"hello", "linux_tweet_app", "my-notes.txt"} <= files(host)

    refused = over_ssh(remote_hosts, host, tmp_path, "reset", "task4")  # no terminal, no --yes
    assert refused.exit_code == NOT_CONFIRMED, refused.stdout + refused.stderr
    assert f"file {host.home}/hello" in refused.stdout
    assert "hello" in files(host) and "hello:v0.1" in tags(host)

    reset = over_ssh(remote_hosts, host, tmp_path, "reset", "task4", "--yes")
    assert reset.exit_code == 0, reset.stdout + reset.stderr
    assert "hello" not in files(host) and "hello:v0.1" not in tags(host)
    assert {"linux_tweet_app", "my-notes.txt"} <= files(host)  # task 2's and the student's
    assert {"mydb", "linux_tweet_app", "my-own-box"} <= containers(host)

    done = over_ssh(remote_hosts, host, tmp_path, "finish", "--yes")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert f"file {host.home}/linux_tweet_app" in done.stdout
    assert containers(host) & {"mydb", "linux_tweet_app"} == set()
    assert "linux_tweet_app" not in files(host)
    assert not {t for t in tags(host) if "linux_tweet_app" in t or t.startswith("ourfiglet")}
    assert "my-own-box" in containers(host) and "my-notes.txt" in files(host)
    assert (here / "Dockerfile").read_text() == "FROM alpine\n"  # this machine untouched

    again = over_ssh(remote_hosts, host, tmp_path, "finish", "--yes")
    assert again.exit_code == 0 and "nothing to remove" in again.stdout
