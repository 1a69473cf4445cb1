"""The stand-in images behave like the Docker Hub images as far as the lab's commands go."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests
from docker.models.containers import Container

from devlab.standins import ensure_standins
from tests.engine.fixtures import PROBE_PREFIX, ProbeRunner, docker_engine, probe

__all__ = ["docker_engine", "probe"]  # fixtures, imported for pytest

pytestmark = pytest.mark.engine

UNINITIALIZED = "Database is uninitialized and password option is not specified"


def _wait_exit(container: Container, timeout: float = 60) -> tuple[int, str]:
    result = container.wait(timeout=timeout)
    return int(result["StatusCode"]), container.logs().decode(errors="replace")


def _get(url: str, timeout: float = 30) -> requests.Response:
    """GET url, retrying while the server comes up (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _published_url(container: Container, port: str = "80/tcp") -> str:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][port][0]
    return f"http://127.0.0.1:{binding['HostPort']}/"


@pytest.fixture
def probe_tag(docker_engine: docker.DockerClient) -> Iterator[str]:
    """A throwaway image tag, removed afterwards."""
    tag = f"{PROBE_PREFIX}build-{uuid.uuid4().hex[:8]}:latest"
    yield tag
    for _ in range(2):
        try:
            docker_engine.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            break
        except docker.errors.APIError:
            time.sleep(1)


def test_warm_ensure_standins_is_fast(docker_engine: docker.DockerClient) -> None:
    started = time.monotonic()
    ensure_standins(docker_engine)
    assert time.monotonic() - started < 5


def test_alpine_hostname_prints_the_container_hostname(probe: ProbeRunner) -> None:
    container = probe("alpine:latest", "hostname")
    code, logs = _wait_exit(container)
    assert code == 0
    assert logs.strip() == container.attrs["Config"]["Hostname"] == container.id[:12]


def test_alpine_has_sh_and_an_apk_shim(
    docker_engine: docker.DockerClient, probe: ProbeRunner
) -> None:
    assert docker_engine.images.get("alpine:latest").attrs["Config"]["Cmd"] == ["/bin/sh"]
    code, logs = _wait_exit(probe("alpine:latest", ["sh", "-c", "command -v apk && apk -V"]))
    assert code == 0, logs
    assert "/apk" in logs and "apk-tools" in logs


def test_ubuntu_runs_bash_with_empty_apt_lists(
    docker_engine: docker.DockerClient, probe: ProbeRunner
) -> None:
    assert docker_engine.images.get("ubuntu:latest").attrs["Config"]["Cmd"] == ["bash"]
    script = "ls / && ps aux && cat /etc/issue && ls /var/lib/apt/lists"
    code, logs = _wait_exit(probe("ubuntu:latest", ["bash", "-c", f"{script}; true"]))
    assert code == 0, logs
    assert "PID" in logs and "etc" in logs
    assert "_Packages" not in logs


def test_nginx_serves_its_welcome_page(
    docker_engine: docker.DockerClient, probe: ProbeRunner
) -> None:
    config = docker_engine.images.get("nginx:latest").attrs["Config"]
    assert config["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert "80/tcp" in config["ExposedPorts"]
    assert config["StopSignal"] == "SIGQUIT"
    container = probe("nginx:latest", ports={"80/tcp": ("127.0.0.1", None)})
    response = _get(_published_url(container))
    assert response.status_code == 200
    assert "Welcome to nginx!" in response.text


def test_task2_dockerfile_on_nginx_serves_the_copied_page(
    docker_engine: docker.DockerClient, probe: ProbeRunner, probe_tag: str, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<h1>standin tweet app</h1>\n")
    (tmp_path / "linux.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "Dockerfile").write_text(
        "FROM nginx:latest\n\n"
        "COPY index.html /usr/share/nginx/html\n"
        "COPY linux.png /usr/share/nginx/html\n\n"
        "EXPOSE 80 443\n\n"
        'CMD ["nginx", "-g", "daemon off;"]\n'
    )
    docker_engine.images.build(path=str(tmp_path), tag=probe_tag, rm=True, forcerm=True)
    container = probe(probe_tag, ports={"80/tcp": ("127.0.0.1", None)})
    response = _get(_published_url(container))
    assert response.status_code == 200
    assert "standin tweet app" in response.text


def test_task4_dockerfile_on_alpine_gets_node(
    docker_engine: docker.DockerClient, probe: ProbeRunner, probe_tag: str, tmp_path: Path
) -> None:
    (tmp_path / "index.js").write_text(
        'var os = require("os");\nvar hostname = os.hostname();\n'
        'console.log("hello from " + hostname);\n'
    )
    (tmp_path / "Dockerfile").write_text(
        "FROM alpine\nRUN apk update && apk add nodejs\nCOPY . /app\nWORKDIR /app\n"
        'CMD ["node","index.js"]\n'
    )
    docker_engine.images.build(path=str(tmp_path), tag=probe_tag, rm=True, forcerm=True)
    container = probe(probe_tag)
    code, logs = _wait_exit(container)
    assert code == 0, logs
    assert logs.strip() == f"hello from {container.id[:12]}"


def test_mysql_without_password_exits_1_with_the_official_message(
    docker_engine: docker.DockerClient, probe: ProbeRunner
) -> None:
    config = docker_engine.images.get("mysql:latest").attrs["Config"]
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert config["Cmd"] == ["mysqld"]
    assert {"3306/tcp", "33060/tcp"} <= set(config["ExposedPorts"])
    assert "/var/lib/mysql" in config["Volumes"]
    code, logs = _wait_exit(probe("mysql:latest"), timeout=30)
    assert code == 1
    assert UNINITIALIZED in logs
    assert "- MYSQL_ROOT_PASSWORD" in logs


def test_mysql_with_password_answers_and_keeps_it_secret(probe: ProbeRunner) -> None:
    password = f"pw-{uuid.uuid4().hex[:10]}"
    container = probe("mysql:latest", environment={"MYSQL_ROOT_PASSWORD": password})
    query = 'mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --execute="SELECT 1"'
    deadline = time.monotonic() + 120
    while True:
        container.reload()
        assert container.status == "running", container.logs().decode(errors="replace")
        code, _ = container.exec_run(["sh", "-c", query])
        # The temporary init server answers on the socket too: wait for the real one.
        if code == 0 and b"init process done" in container.logs():
            break
        assert time.monotonic() < deadline, "mysql stand-in not ready within 120 s"
        time.sleep(1)
    code, out = container.exec_run(["sh", "-c", query])
    assert code == 0 and b"1" in out
    code, out = container.exec_run(
        ["sh", "-c", 'mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --version']
    )
    assert code == 0 and b"Ver" in out
    code, _ = container.exec_run(["mysql", "--user=root", "--password=wrong", "-e", "SELECT 1"])
    assert code != 0
    assert container.top()["Processes"], "server not running"
    assert password not in container.logs().decode(errors="replace")
