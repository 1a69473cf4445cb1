"""No traceback on the student's path: what goes wrong around ``grade`` is one line and exit 2.

Each case runs the real ``grade`` console script as a subprocess, the way a student's
shell does, and asserts the exit code, that stderr is one line naming the problem,
and that nothing of Python's leaks out. Cases that fail before the engine is asked
point DOCKER_HOST at a socket where nothing listens (the engine's own error would be
a different line); the full outbox needs a graded report, so the real engine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

pytestmark = pytest.mark.engine

GRADE = str(Path(sys.executable).with_name("grade"))
NO_ENGINE = "unix:///nonexistent/docker.sock"
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (another user, a mount)")


def student_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOCKER_"))}
    env.update(HOME=str(home), DOCKERID="modelstudent", NO_COLOR="1", DOCKER_HOST=NO_ENGINE)
    env.update(extra)
    return env


def run(
    args: list[str], env: dict[str, str], cwd: Path | None = None, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [GRADE, *args]
    if user:
        command = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *command]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def assert_one_line(done: subprocess.CompletedProcess[str], *says: str) -> None:
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("grade: "), done.stderr
    for part in says:
        assert part in done.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def nobody_home(runnable_by_other_users: None) -> Iterator[Path]:
    """A home of the user nobody (root reads every file: permissions need another user)."""
    folder = Path(tempfile.mkdtemp(prefix="grade-nobody-"))
    folder.chmod(0o755)
    shutil.chown(folder, "nobody")
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_deleted_working_directory(home: Path) -> None:
    gone = home / "lab"
    gone.mkdir()
    script = f'cd "{gone}" && rmdir "{gone}" && exec "{GRADE}"'
    done = subprocess.run(
        ["sh", "-c", script], env=student_env(home), capture_output=True, text=True, timeout=300
    )
    assert_one_line(done, "no longer exists", "cd ~")


@AS_ROOT
def test_an_unreadable_grade_toml(nobody_home: Path) -> None:
    config = nobody_home / "grade.toml"
    config.write_text('dockerid = "modelstudent"\n')
    shutil.chown(config, "nobody")
    config.chmod(0o000)
    done = run([], student_env(nobody_home), cwd=nobody_home, user="nobody")
    assert_one_line(done, f"{config}: cannot read it (Permission denied)")


@AS_ROOT
def test_an_unreadable_home(nobody_home: Path, tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    nobody_home.chmod(0o000)
    done = run([], student_env(nobody_home), cwd=tmp_path, user="nobody")
    assert_one_line(done, f"cannot read your home folder {nobody_home}", "chmod u+rwx ~")


def test_a_grade_toml_that_is_not_utf8(home: Path) -> None:
    (home / "grade.toml").write_bytes(b'dockerid = "caf\xe9"\n')
    assert_one_line(run([], student_env(home), cwd=home), "grade.toml: not valid TOML (not UTF-8")


def test_a_rubric_that_is_not_utf8_or_a_folder(home: Path) -> None:
    (home / "rubric.toml").write_bytes(b"[points]\n\xff = 1\n")
    done = run(["--rubric", "rubric.toml"], student_env(home), cwd=home)
    assert_one_line(done, "cannot read the rubric (not UTF-8 text)")
    done = run(["--rubric", str(home)], student_env(home), cwd=home)
    assert_one_line(done, "cannot read the rubric (Is a directory)")


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("missing/report.xml", "No such file or directory"),
        (".", "Is a directory"),
        ("/dev/full", "No space left on device"),
        ("/proc/version", "/proc/version"),  # EACCES, or EIO as root
    ],
    ids=["no such folder", "a folder", "a full disk", "read-only"],
)
def test_a_junit_path_that_cannot_be_written(home: Path, where: str, says: str) -> None:
    done = run(["--junit", where], student_env(home), cwd=home)
    assert_one_line(done, "cannot write the report to", says)


def test_home_unset_still_finds_the_accounts_home(home: Path) -> None:
    env = student_env(home)
    del env["HOME"]
    done = run([], env, cwd=home)
    assert_one_line(done, "cannot reach the Docker engine at unix:///nonexistent/docker.sock")


def test_a_broken_docker_config_is_a_warning_as_for_docker(home: Path) -> None:
    (home / ".docker").mkdir()
    (home / ".docker" / "config.json").write_text('{"currentContext": ')
    env = student_env(home)
    del env["DOCKER_HOST"]
    env["DOCKER_CONTEXT"] = "nope"  # stops before any engine is asked
    # the context's error is the one line: the broken file is not why grading stops
    assert_one_line(run([], env, cwd=home), "$DOCKER_CONTEXT names the Docker context 'nope'")
    env["DOCKER_CONTEXT"] = ""
    env["DOCKER_HOST"] = NO_ENGINE
    done = run([], env, cwd=home)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(lines) == 2
    assert lines[0].startswith("grade: warning: cannot read ") and "config.json" in lines[0]
    assert lines[1].startswith("grade: cannot reach the Docker engine at " + NO_ENGINE)
    env["DOCKER_CONTEXT"] = "nope"
    del env["DOCKER_HOST"]
    env["DOCKER_CONFIG"] = str(home / "grade.toml")  # a file, not a folder
    (home / "grade.toml").write_text("")
    assert_one_line(run([], env, cwd=home), "'nope', which does not exist")


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[Path]:
    """A tiny tmpfs at ``folder``, filled up; unmounted again whatever happens."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={folder}/filler", "bs=4k"], capture_output=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@AS_ROOT
def test_a_full_disk_for_the_outbox(engine: docker.DockerClient, home: Path) -> None:
    env = student_env(home, GRADER_TOKEN="tok-not-shown")
    del env["DOCKER_HOST"]
    with full_disk(home / "data") as data:
        env["XDG_DATA_HOME"] = str(data)
        done = run(["task1", "--submit", "http://127.0.0.1:9"], env, cwd=home)
        assert not (data / "grade" / "outbox").exists() or not any(
            (data / "grade" / "outbox").glob("*.xml")
        )
    assert "Task 1" in done.stdout  # graded and shown first; only keeping it failed
    assert_one_line(done, "cannot keep the report", "No space left on device")
    assert "tok-not-shown" not in done.stderr + done.stdout


def test_a_reader_that_goes_away_is_no_traceback(engine: docker.DockerClient, home: Path) -> None:
    """``grade --json | head -1``: the pipe closes before grade has written its document.

    Click itself silences the broken pipe (its ``EPIPE`` handling exits 1): no traceback,
    not even Python's "Exception ignored" at exit.
    """
    env = student_env(home)
    del env["DOCKER_HOST"]
    process = subprocess.Popen(
        [GRADE, "task1", "--json"], env=env, cwd=home, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the first byte
    _, stderr = process.communicate(timeout=300)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert stderr == ""
    assert process.returncode == 1
