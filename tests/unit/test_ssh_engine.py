"""How ``grade --host`` decides to reach a host's engine: its own socket forwarded by the ssh
master where the host's ``docker`` names a Unix socket and an engine answers through it, else
``docker system dial-stdio``. Over real hosts: tests/engine/test_grade_remote.py."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.targets.ssh import SshAddress, SshHost, _engine_answers, _unix_socket_path


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ("unix:///var/run/docker.sock", "/var/run/docker.sock"),
        ("unix:///run/user/1000/docker.sock", "/run/user/1000/docker.sock"),
        ("tcp://127.0.0.1:2375", None),
        ("ssh://ada@elsewhere", None),
        ("npipe:////./pipe/docker_engine", None),
        ("unix://relative.sock", None),
        ("", None),  # an old docker without contexts said nothing
    ],
)
def test_only_a_unix_socket_is_forwarded(endpoint: str, path: str | None) -> None:
    assert _unix_socket_path(endpoint) == path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """A Unix socket answering each connection with the next of ``answers``."""
    path = tmp_path / "engine.sock"
    answers: list[bytes] = []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                if answers:
                    conn.sendall(answers.pop(0))

    threading.Thread(target=serve, daemon=True).start()
    yield path, answers
    listener.close()


@pytest.mark.parametrize(
    ("answer", "answers"),
    [
        (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK", True),
        (b"HTTP/1.0 200 OK\r\n\r\nOK", True),
        (b"HTTP/1.1 404 Not Found\r\n\r\npage not found", False),
        (b"HTTP/1.1 200 OK\r\n\r\nnot docker", False),
        (b"", False),  # the forward's channel was refused: sshd closes at once
    ],
)
def test_the_forward_counts_only_if_an_engine_answers_through_it(
    server: tuple[Path, list[bytes]], answer: bytes, answers: bool
) -> None:
    path, queue = server
    queue.append(answer)
    assert _engine_answers(path, timeout=5) is answers


def test_nothing_listening_is_no_engine(tmp_path: Path) -> None:
    assert _engine_answers(tmp_path / "none.sock", timeout=1) is False


def test_without_a_unix_endpoint_no_forward_is_asked_for(tmp_path: Path) -> None:
    host = SshHost(SshAddress("h", "u", 22))
    try:
        host._endpoint = "tcp://10.0.0.7:2375"
        host.command = None  # type: ignore[assignment,method-assign]  # ssh would be a bug here
        assert host._forward_engine(tmp_path / "docker.sock") is False
    finally:
        del host.command
        host.close()
