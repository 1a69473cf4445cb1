"""Grading over SSH without a network: addresses, the ssh config, how failures read, the class
file, and how a class run adds up. The real hosts are in tests/engine/test_grade_remote.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.batch.class_run import (
    ClassHost,
    HostResult,
    State,
    _exit_status,
    _read_outcome,
    read_class,
)
from grader.errors import EnginePermissionDenied, EngineUnreachable, SettingsError
from grader.targets.ssh import SshAddress, SshHost, _failure


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("ssh://ada@lab-07:2222", SshAddress("lab-07", "ada", 2222)),
        ("ssh://lab-07", SshAddress("lab-07")),
        ("ssh://ada@10.0.0.7", SshAddress("10.0.0.7", "ada")),
    ],
)
def test_an_ssh_address(url: str, parsed: SshAddress) -> None:
    assert SshAddress.parse(url) == parsed
    assert f"ssh://{parsed}" == url


@pytest.mark.parametrize("url", ["lab-07", "http://lab-07", "ssh://", "ssh://h:port", "ssh://h/x"])
def test_a_malformed_address_is_a_settings_error(url: str) -> None:
    with pytest.raises(SettingsError, match=r"^--host "):
        SshAddress.parse(url)


def test_the_config_puts_safety_first_and_never_accepts_a_new_key_silently(tmp_path: Path) -> None:
    host = SshHost(SshAddress("h", "u", 22), identity_file=tmp_path / "key")
    try:
        text = host.config.read_text()
        assert text.index("StrictHostKeyChecking yes") < text.index("Include")
        assert "BatchMode yes" in text and f'IdentityFile "{tmp_path / "key"}"' in text
        assert host.command("true")[1:] == [
            "-F", str(host.config), "-l", "u", "-p", "22", "--", "h", "true",
        ]  # fmt: skip
    finally:
        host.close()
    accepting = SshHost(SshAddress("h"), accept_new_host_keys=True)
    try:
        assert "StrictHostKeyChecking accept-new" in accepting.config.read_text()
    finally:
        accepting.close()


@pytest.mark.parametrize(
    ("code", "stderr", "kind", "says"),
    [
        (255, "ssh: connect to host h port 22: Connection refused", EngineUnreachable,
         "cannot reach u@h over SSH: ssh: connect to host h port 22: Connection refused"),
        (255, "u@h: Permission denied (publickey).", EnginePermissionDenied, "refused the SSH key"),
        (255, "Host key verification failed.", EngineUnreachable, "--accept-new-host-keys"),
        (127, "bash: line 1: docker: command not found", EngineUnreachable, "no Docker on u@h"),
        (1, "permission denied while trying to connect to the Docker daemon socket at unix:///x",
         EnginePermissionDenied, "add that user to the docker group"),
        (1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
         EngineUnreachable, "the Docker engine on u@h is not running"),
    ],
)  # fmt: skip
def test_each_way_of_failing_is_one_line(
    code: int, stderr: str, kind: type[Exception], says: str
) -> None:
    error = _failure("u@h", code, stderr + "\n")
    assert type(error) is kind
    assert says in str(error) and "\n" not in str(error)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "class.csv"
    path.write_text(text)
    return path


def test_the_class_file(tmp_path: Path) -> None:
    path = write(tmp_path, "student_id,host\ns1,ada@h1:2222\ns2,ssh://bo@h2,keys/bo\n\n")
    assert read_class(path) == [
        ClassHost("s1", "ssh://ada@h1:2222"),
        ClassHost("s2", "ssh://bo@h2", tmp_path / "keys" / "bo"),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("s1\n", ":1: expected student_id,host[,identity_file]"),
        ("s1,h\ns1,h2\n", ":2: student 's1' appears twice"),
        ("a/b,h\n", ":1: student id 'a/b' is too long or has '/'"),
        ("s1,h:port\n", "the port is not a number"),
        ("student_id,host\n", "no student_id,host rows"),
    ],
)
def test_a_bad_class_file_names_its_line(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(SettingsError) as raised:
        read_class(write(tmp_path, text))
    assert error in str(raised.value)


def outcome(code: int, stdout: str = "", stderr: str = "") -> HostResult:
    result = HostResult(ClassHost("s1", "ssh://h"))
    _read_outcome(result, code, stdout, stderr)
    return result


def test_what_a_host_s_grade_said() -> None:
    doc = {"score": 25, "max_score": 28, "checks": [
        {"id": "a.b", "status": "passed"}, {"id": "mydb.running", "status": "failed"},
    ]}  # fmt: skip
    failed = outcome(1, json.dumps(doc))
    assert (failed.state, failed.score, failed.failed) == ("failed", 25, ["mydb.running"])
    assert outcome(0, json.dumps({**doc, "checks": []})).state == "passed"
    error = outcome(2, "", "grade: h refused the SSH key: Permission denied\n")
    assert (error.state, error.reason) == ("error", "h refused the SSH key: Permission denied")
    assert outcome(1, "not json").state == "error"


def test_the_exit_status_of_a_class() -> None:
    def states(*names: State) -> list[HostResult]:
        return [HostResult(ClassHost(str(i), "ssh://h"), state=s) for i, s in enumerate(names)]

    assert _exit_status(states("passed", "passed"), False) == 0
    assert _exit_status(states("passed", "failed"), False) == 1
    assert _exit_status(states("failed", "timeout"), False) == 2
    assert _exit_status(states("error", "passed"), False) == 2
    assert _exit_status(states("passed"), True) == 130
