"""``grade start``'s judging (grader.labtools.preflight), without an engine: who holds a
port, what an earlier try left, which setting is missing, the disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import setting
from grader.labtools.objects import Found
from grader.labtools.preflight import (
    conflict_problems,
    disk_problem,
    listening_processes,
    port_problems,
    setting_problems,
)


def container(name: str, port: int, state: str = "running") -> dict[str, object]:
    return {
        "Names": [f"/{name}"],
        "Image": "nginx:latest",
        "State": state,
        "Ports": [{"PrivatePort": 80, "PublicPort": port, "Type": "tcp"}],
    }


def test_a_port_held_by_a_container_names_it_and_how_to_stop_it() -> None:
    problems = port_problems(80, [container("web", 80), container("other", 8080)], [])
    assert [p.line() for p in problems] == [
        "port 80 is taken by container web (nginx:latest): docker container stop web"
    ]


def test_a_stopped_container_holds_no_port() -> None:
    assert port_problems(80, [container("web", 80, state="exited")], []) == []


def test_a_port_held_by_a_host_process_names_it_and_an_engine_proxy_is_no_problem() -> None:
    problems = port_problems(80, [], [(1234, "apache2"), (99, "docker-proxy")])
    assert [p.line() for p in problems] == [
        "port 80 is taken by process 1234 (apache2) on this machine: stop it (sudo kill 1234)"
    ]
    unseen = port_problems(80, [], [(0, "")])
    assert "sudo ss -ltnp 'sport = :80'" in unseen[0].line()


def test_the_listener_on_a_port_is_read_from_proc(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    header = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt uid t inode\n"
    )
    rest = " 00000000:00000000 00:00000000 00000000     0        0"
    listening = f"   0: 00000000:0050 00000000:0000 0A{rest} 4242 1\n"
    connected = f"   1: 0100007F:1F90 0100007F:0050 01{rest} 4343 1\n"
    (tmp_path / "net" / "tcp").write_text(header + listening + connected)
    pid = tmp_path / "321"
    (pid / "fd").mkdir(parents=True)
    (pid / "comm").write_text("apache2\n")
    (pid / "fd" / "3").symlink_to("socket:[4242]")
    assert listening_processes(80, tmp_path) == [(321, "apache2")]
    assert listening_processes(8080, tmp_path) == []
    (pid / "fd" / "3").unlink()  # the socket is another user's: seen, its process not
    assert listening_processes(80, tmp_path) == [(0, "")]


def test_what_an_earlier_try_left_is_one_line_each_with_its_command() -> None:
    found = Found(containers={"abc": "mydb (mysql:latest)"}, images=["ourfiglet:latest"])
    assert [p.line() for p in conflict_problems(found)] == [
        "a container mydb (mysql:latest) is left from an earlier try: "
        "docker container rm --force mydb  (or grade finish)",
        "an image ourfiglet:latest is left from an earlier try: "
        "docker image rm ourfiglet:latest  (or grade finish)",
    ]


@dataclass(frozen=True)
class Needs:
    dockerid: str | None = setting(env="DOCKERID", help="Your Docker ID.")
    other: str | None = setting(help="Not needed.")


def test_a_setting_the_lab_needs_and_nobody_set_says_how_to_set_it() -> None:
    problems = setting_problems(Needs, Needs(), ["dockerid"])
    assert [p.line() for p in problems] == [
        'DOCKERID is not set (your docker id): export DOCKERID=... (or dockerid = "..." '
        "in grade.toml)"
    ]
    assert setting_problems(Needs, Needs(dockerid="ann"), ["dockerid"]) == []


def test_too_little_disk_is_a_problem_enough_is_not() -> None:
    assert disk_problem(100, 2048, "/var/lib/docker") is not None
    assert disk_problem(4096, 2048, "/var/lib/docker") is None
