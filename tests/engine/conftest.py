"""Real-engine fixtures: the engine with its stand-in images, the model student, and ``grade``.

The lab is done once per session and shared; a test that spoils a step puts it
back before it ends, so the next test finds a completed lab again. A test that
needs a fresh host resets it and marks the lab as not done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from devlab.engine import ensure_engine
from devlab.host import reset_lab
from devlab.model_student import ModelStudent
from devlab.remote import RemoteHosts, ensure_remote_hosts
from devlab.standins.build import ensure_standins

GRADE = [sys.executable, "-m", "grader.cli"]


#: This checkout (the venv's editable install points here).
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    """A Docker engine that answers, with the stand-in images built."""
    ensure_engine()
    client = docker.from_env()
    ensure_standins(client)
    return client


@pytest.fixture
def runnable_by_other_users() -> Iterator[None]:
    """Let other users reach this checkout and its venv while the test runs ``grade`` as
    one (``setpriv --reuid=nobody``): a clone in a ``mktemp -d`` folder sits in a 0700
    directory. Each ancestor that others cannot traverse gets o+x (not o+r) for the test,
    and its mode back afterwards."""
    changed: dict[Path, int] = {}
    for folder in {*Path(sys.prefix).resolve().parents, *REPO.parents, REPO}:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            changed[folder] = mode
            folder.chmod(mode | 0o001)
    try:
        yield
    finally:
        for folder, mode in changed.items():
            folder.chmod(mode & 0o7777)


@pytest.fixture(scope="session")
def remote_hosts() -> RemoteHosts:
    """Lab machines behind SSH, each its own engine (built on first use, then reused)."""
    return ensure_remote_hosts()


@pytest.fixture(scope="session")
def student_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("student-home")


class LabState:
    """Whether the shared lab on the engine is complete right now."""

    complete = False
    student: ModelStudent | None = None


@pytest.fixture
def completed_lab(engine: docker.DockerClient, student_home: Path) -> ModelStudent:
    """The model student's completed lab (done once, redone only after a reset)."""
    if LabState.student is None or not LabState.complete:
        LabState.student = ModelStudent(student_home)
        reset_lab(engine)
        LabState.student.do_the_lab()
        LabState.complete = True
    student = LabState.student
    # Spoiling and restoring steps fills the engine's short event history; redo the
    # --rm step before its evidence is pushed out, as a student would.
    since = f"{student.interactive_run_at:.9f}"
    if len(list(engine.api.events(since=since, until=f"{time.time():.9f}"))) > 120:
        student.step_1_2()
    return student


@pytest.fixture
def fresh_host(engine: docker.DockerClient) -> Iterator[docker.DockerClient]:
    """A host where the lab was not done (the stand-in images stay, as pulled images would)."""
    LabState.complete = False
    reset_lab(engine)
    yield engine


@dataclass
class Graded:
    """One run of ``grade`` as a student's terminal would see it."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        return {check["id"]: check for check in self.doc["checks"]}

    @property
    def failing(self) -> set[str]:
        return {cid for cid, check in self.checks.items() if check["status"] != "passed"}

    def message(self, check_id: str) -> str:
        return self.checks[check_id]["message"]


def run_grade(
    *args: str, home: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Graded:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ.update(HOME=str(home), DOCKERID="modelstudent", NO_COLOR="1")
    # grade remembers engine events in the data folder: each run here starts with none
    environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix=".grade-data-", dir=home)
    environ.update(env or {})
    done = subprocess.run(
        [*GRADE, *args], env=environ, cwd=cwd or home, capture_output=True, text=True, timeout=300
    )
    return Graded(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def grade(student_home: Path):
    """``grade`` as the model student runs it: ``grade("--json", "task1")``."""

    def run(*args: str, **kwargs: Any) -> Graded:
        return run_grade(*args, home=student_home, **kwargs)

    return run
