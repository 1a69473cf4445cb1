"""``grade`` grades the engine the real ``docker`` command would use, for each combination.

Every installed ``docker`` CLI (Debian's 20.10 at /usr/bin/docker, and whichever comes
first on PATH) is asked with contexts made by ``docker context create`` that point at
sockets where no engine listens: both commands then name the endpoint they tried
(``Cannot connect to the Docker daemon at unix:///...``), which must be the same. The
last tests grade the real engine through a context of its own, and through ``-H``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import docker
import pytest

from devlab.remote import RemoteHosts, keep_history
from tests.engine.conftest import Graded, run_grade

pytestmark = pytest.mark.engine

DOCKER_SAYS = re.compile(r"Cannot connect to the Docker daemon at (\S+?)\.? Is the docker")
GRADE_SAYS = re.compile(r"cannot reach the Docker engine at (\S+) \(context ([^)]+)\)")
ENV_NAMES = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS")


def docker_clis() -> list[str]:
    found = [shutil.which("docker"), "/usr/bin/docker"]
    unique: dict[str, str] = {}
    for path in found:
        if path and os.access(path, os.X_OK):
            unique.setdefault(os.path.realpath(path), path)
    return sorted(unique.values())


def cli_version(cli: str) -> str:
    done = subprocess.run(
        [cli, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DOCKER_CONFIG with contexts ctxa and ctxb, made by the real CLI, on dead sockets."""
    folder = tmp_path_factory.mktemp("docker-config")
    for name in ("ctxa", "ctxb"):
        subprocess.run(
            [docker_clis()[0], "context", "create", name, "--docker",
             f"host=unix://{folder}/{name}.sock"],
            env={**clean_env(), "DOCKER_CONFIG": str(folder)}, check=True, capture_output=True,
        )  # fmt: skip
    return folder


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ENV_NAMES}


#: (name, what config.json holds, the environment, -H): each a way a student's shell may be.
CASES = [
    ("current context", {"currentContext": "ctxb"}, {}, None),
    ("DOCKER_CONTEXT beats it", {"currentContext": "ctxb"}, {"DOCKER_CONTEXT": "ctxa"}, None),
    (
        "DOCKER_HOST beats both",
        {"currentContext": "ctxb"},
        {"DOCKER_CONTEXT": "ctxa", "DOCKER_HOST": "unix://{store}/env.sock"},
        None,
    ),
    (
        "-H beats everything",
        {"currentContext": "ctxb"},
        {"DOCKER_CONTEXT": "ctxa", "DOCKER_HOST": "unix://{store}/env.sock"},
        "unix://{store}/flag.sock",
    ),
    (
        "empty variables are unset",
        {"currentContext": "ctxb"},
        {"DOCKER_HOST": "", "DOCKER_CONTEXT": ""},
        None,
    ),
    (
        "DOCKER_HOST beats a missing context",
        {},
        {"DOCKER_CONTEXT": "nope", "DOCKER_HOST": "unix://{store}/env.sock"},
        None,
    ),
    ("-H tcp", {}, {}, "tcp://127.0.0.1:1"),
    (
        "DOCKER_HOST tcp without TLS",
        {},
        {"DOCKER_HOST": "tcp://127.0.0.1:1", "DOCKER_CERT_PATH": "/nowhere"},
        None,
    ),
    ("a broken config.json is warned about", "{broken", {"DOCKER_CONTEXT": "ctxa"}, None),
]


@pytest.fixture
def config(store: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    yield store
    (store / "config.json").unlink(missing_ok=True)


def set_up(store: Path, config_json: object, env: dict[str, str], host: str | None):
    text = config_json if isinstance(config_json, str) else json.dumps(config_json)
    (store / "config.json").write_text(text)
    environ = {k: v.format(store=store) for k, v in env.items()}
    return {"DOCKER_CONFIG": str(store), **environ}, host.format(store=store) if host else None


def ask_docker(cli: str, env: dict[str, str], host: str | None) -> subprocess.CompletedProcess[str]:
    args = [cli, *(["-H", host] if host else []), "ps"]
    return subprocess.run(
        args, env={**clean_env(), **env}, capture_output=True, text=True, timeout=60
    )


_answers: dict[str, Graded] = {}


def ask_grade(tmp_path: Path, env: dict[str, str], host: str | None) -> Graded:
    """grade's answer, once per case (it does not depend on the docker CLI compared)."""
    # "task1": the checks are only listed (nothing answers), this is about the engine
    args = [*(["-H", host] if host else []), "task1"]
    key = json.dumps([args, env, (Path(env["DOCKER_CONFIG"]) / "config.json").read_text()])
    if key not in _answers:
        _answers[key] = run_grade(*args, home=tmp_path, env={**{k: "" for k in ENV_NAMES}, **env})
    return _answers[key]


@pytest.mark.parametrize("cli", docker_clis())
@pytest.mark.parametrize(("case", "config_json", "env", "host"), CASES, ids=[c[0] for c in CASES])
def test_grade_tries_the_engine_docker_tries(
    cli: str, case: str, config_json: object, env: dict[str, str], host: str | None,
    config: Path, tmp_path: Path,
) -> None:  # fmt: skip
    if case == "empty variables are unset" and cli_version(cli).startswith("20."):
        pytest.skip("docker 20.10 reads a set but empty variable as set; grade follows 23+")
    environ, flag = set_up(config, config_json, env, host)
    docker_run = ask_docker(cli, environ, flag)
    docker_tried = DOCKER_SAYS.search(docker_run.stderr)
    assert docker_tried, docker_run.stderr
    graded = ask_grade(tmp_path, environ, flag)
    assert graded.exit_code == 2, graded.stderr
    grade_tried = GRADE_SAYS.search(graded.stderr)
    assert grade_tried, graded.stderr
    assert grade_tried.group(1) == docker_tried.group(1)
    expected_context = "ctxa" if environ.get("DOCKER_CONTEXT") == "ctxa" else "ctxb"
    if flag or environ.get("DOCKER_HOST") or "ctx" not in json.dumps(config_json) + str(env):
        expected_context = "default"
    assert grade_tried.group(2) == expected_context
    lines = graded.stderr.splitlines()
    assert "Traceback" not in graded.stderr
    if isinstance(config_json, str):  # docker warns and goes on: so does grade, in one line
        assert len(lines) == 2 and lines[0].startswith("grade: warning: cannot read ")
    else:
        assert len(lines) == 1


@pytest.mark.parametrize("cli", docker_clis())
@pytest.mark.parametrize(
    ("config_json", "env", "named"),
    [
        ({}, {"DOCKER_CONTEXT": "nope"}, "$DOCKER_CONTEXT names the Docker context 'nope'"),
        ({"currentContext": "gone"}, {}, "config.json names the Docker context 'gone'"),
        (
            {},
            {"DOCKER_HOST": "tcp://127.0.0.1:1", "DOCKER_TLS_VERIFY": "1",
             "DOCKER_CERT_PATH": "/nowhere"},
            "$DOCKER_TLS_VERIFY is set but /nowhere/ca.pem is missing",
        ),
    ],
    ids=["DOCKER_CONTEXT missing", "current context missing", "TLS without its CA"],
)  # fmt: skip
def test_where_docker_refuses_grade_says_why_in_one_line(
    cli: str, config_json: object, env: dict[str, str], named: str, config: Path, tmp_path: Path
) -> None:
    environ, _ = set_up(config, config_json, env, None)
    docker_run = ask_docker(cli, environ, None)
    assert docker_run.returncode != 0 and not DOCKER_SAYS.search(docker_run.stderr)
    graded = ask_grade(tmp_path, environ, None)
    assert graded.exit_code == 2
    assert graded.stdout == ""
    assert graded.stderr.count("\n") == 1 and "Traceback" not in graded.stderr
    assert graded.stderr.startswith("grade: ") and named in graded.stderr


@pytest.fixture
def lab_context(engine: docker.DockerClient, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A context ``lab`` made with the real CLI, reaching the real engine by another path."""
    socket = tmp_path / "engine.sock"
    socket.symlink_to("/var/run/docker.sock")
    store = tmp_path / "docker-config"
    for command in (["create", "lab", "--docker", f"host=unix://{socket}"], ["use", "lab"]):
        subprocess.run(
            [docker_clis()[0], "context", *command],
            env={**clean_env(), "DOCKER_CONFIG": str(store)}, check=True, capture_output=True,
        )  # fmt: skip
    yield socket, store


def test_the_header_and_the_report_name_the_engine_graded(
    lab_context: tuple[Path, Path], tmp_path: Path
) -> None:
    socket, store = lab_context
    env = {"DOCKER_CONFIG": str(store), "DOCKER_HOST": "", "DOCKER_CONTEXT": ""}
    report = tmp_path / "report.xml"
    shown = run_grade("task1", "--junit", str(report), home=tmp_path, env=env)
    assert shown.exit_code in (0, 1), shown.stderr
    assert shown.stdout.splitlines()[0].startswith(f"Engine: unix://{socket} (context lab), ")
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (properties["engine_context"], properties["engine_endpoint"]) == (
        "lab",
        f"unix://{socket}",
    )
    as_json = run_grade("task1", "--json", home=tmp_path, env=env)
    assert as_json.doc["engine"]["context"] == "lab"
    assert as_json.doc["engine"]["endpoint"] == f"unix://{socket}"
    assert as_json.doc["engine"]["id"] != "unknown"  # it was graded, not just named


def test_dash_h_grades_that_engine_and_a_missing_context_stops_before_it(
    lab_context: tuple[Path, Path], tmp_path: Path
) -> None:
    socket, store = lab_context
    env = {"DOCKER_CONFIG": str(store), "DOCKER_CONTEXT": "nope"}
    flagged = run_grade("-H", f"unix://{socket}", "task1", "--json", home=tmp_path, env=env)
    assert flagged.exit_code in (0, 1), flagged.stderr
    assert flagged.doc["engine"]["context"] == "default"
    assert flagged.doc["engine"]["endpoint"] == f"unix://{socket}"
    # every check asks that engine, the exec into mydb too: -H judges as the context does
    by_context = run_grade("task1", "--json", home=tmp_path, env={**env, "DOCKER_CONTEXT": "lab"})
    assert statuses(flagged.doc) == statuses(by_context.doc)
    assert statuses(flagged.doc)["mydb.version"] != "error", flagged.doc
    refused = run_grade("task1", "--json", home=tmp_path, env=env)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "'nope', which does not exist" in refused.stderr


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["status"] for check in doc["checks"]}


def test_docker_host_over_ssh_grades_that_engine_with_the_files_here(
    remote_hosts: RemoteHosts, tmp_path: Path
) -> None:
    """``DOCKER_HOST=ssh://...``, as docker takes it: the engine there, the lab's files here.

    (``--host ssh://`` instead grades that machine whole: its files too.)
    """
    host = remote_hosts.complete
    keep_history(host)
    env = {"DOCKER_HOST": host.ssh_url(), "DOCKER_CONTEXT": ""}
    args = ("--json", "task1", "task2", "--ssh-config", str(remote_hosts.ssh_config))
    graded = run_grade(*args, home=tmp_path, env=env)
    assert graded.exit_code == 1, graded.stderr
    engine = graded.doc["engine"]
    assert engine["name"] == "grade-complete"  # that host's engine, not this machine's
    assert (engine["context"], engine["endpoint"]) == ("default", host.ssh_url())
    statuses = {cid: check["status"] for cid, check in graded.checks.items()}
    assert statuses["mydb.running"] == "passed"  # the engine's state: done there
    # the tweet app's Dockerfile is read here, where docker build would have read it
    assert statuses["tweet.dockerfile"] != "passed"
    assert "linux_tweet_app" in graded.message("tweet.dockerfile")


@pytest.mark.parametrize("cli", docker_clis())
def test_the_context_option_as_docker_takes_it(cli: str, config: Path, tmp_path: Path) -> None:
    environ, _ = set_up(config, {"currentContext": "ctxb"}, {"DOCKER_HOST": "unix:///h.sock"}, None)
    docker_run = subprocess.run(
        [cli, "--context", "ctxa", "ps"], env={**clean_env(), **environ},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    docker_tried = DOCKER_SAYS.search(docker_run.stderr)
    assert docker_tried, docker_run.stderr
    graded = run_grade("--context", "ctxa", "task1", home=tmp_path, env=environ)
    grade_tried = GRADE_SAYS.search(graded.stderr)
    assert graded.exit_code == 2 and grade_tried, graded.stderr
    assert grade_tried.groups() == (docker_tried.group(1), "ctxa")
    both = run_grade("--context", "ctxa", "-H", "unix:///x.sock", home=tmp_path, env=environ)
    assert both.exit_code == 2 and both.stderr.count("\n") == 1
    assert "give one of them" in both.stderr
