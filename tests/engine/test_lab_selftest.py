"""``grade lab selftest`` on the real engine: the Docker lab, the tiny lab, and a lab with a
planted wrong check and a planted wrong spoiler, each named.

The Docker lab's spoiled steps run here as its declared spoilers (checks/docker_beginners/
spoilers.py), through the command an author runs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from defusedxml import ElementTree

from checks.docker_beginners import LAB
from tests.engine.conftest import GRADE, Graded, LabState

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
ENGINE = "unix:///var/run/docker.sock"


@pytest.fixture
def test_labs(tmp_path: Path) -> dict[str, str]:
    """The tiny and the planted lab installed beside the Docker lab (as pip would)."""
    dist = tmp_path / "site" / "test_labs-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: test-labs\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[docker_lab_grader.labs]\ntiny = tests.labs.tiny:LAB\nplanted = tests.labs.planted:LAB\n"
    )
    return {"PYTHONPATH": f"{dist.parent}:{REPO}"}


def selftest(*args: str, home: Path, env: dict[str, str] | None = None) -> Graded:
    """``grade lab selftest ARGS`` as an author runs it (the Docker lab's takes minutes)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ.update(HOME=str(home), NO_COLOR="1", **(env or {}))
    done = subprocess.run(
        [*GRADE, "lab", "selftest", *args], env=environ, cwd=home, capture_output=True,
        text=True, timeout=1200,
    )  # fmt: skip
    return Graded(done.returncode, done.stdout, done.stderr)


def junit_cases(path: Path) -> dict[str, str]:
    """Each scenario's outcome in the JUnit file: passed, failure or error."""
    root = ElementTree.parse(path).getroot()
    outcome = {}
    for case in root.iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error")]
        outcome[case.get("name")] = kinds[0] if kinds else "passed"
    return outcome


def test_the_default_engine_is_refused_without_its_flag(engine, tmp_path) -> None:
    done = selftest("docker_beginners", home=tmp_path)
    assert done.exit_code == 5
    assert done.stderr.strip().endswith("or say --on-this-engine")
    assert done.stdout == ""


def test_the_tiny_lab_proves_itself(engine, test_labs, tmp_path) -> None:
    junit = tmp_path / "tiny.xml"
    done = selftest("tiny", "-H", ENGINE, "--junit", str(junit), home=tmp_path, env=test_labs)
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "tiny: proved (4 scenarios" in done.stdout
    assert junit_cases(junit) == {
        "fresh host": "passed", "solution": "passed", "motd says good morning": "passed",
        "no motd": "passed", "findings": "passed",
    }  # fmt: skip
    assert not (tmp_path / "motd.txt").exists()  # typed in a home of its own


def test_a_planted_wrong_check_and_wrong_spoiler_are_named(engine, test_labs, tmp_path) -> None:
    junit = tmp_path / "planted.xml"
    done = selftest("planted", "-H", ENGINE, "--junit", str(junit), home=tmp_path, env=test_labs)
    assert done.exit_code == 1, done.stdout + done.stderr
    named = [line for line in done.stdout.splitlines() if line.startswith("not as declared: ")]
    assert named == [
        "not as declared: fresh host: planted.always passed but should fail",
        "not as declared: empty the file: planted.file passed but should fail",
        "not as declared: check planted.always passes on a fresh host",
        "not as declared: check planted.always: no spoiler breaks it",
    ]
    cases = junit_cases(junit)
    assert (cases["fresh host"], cases["empty the file"]) == ("failure", "failure")
    assert (cases["remove the file"], cases["findings"]) == ("passed", "failure")


def test_the_docker_lab_proves_itself(fresh_host, tmp_path) -> None:
    LabState.complete = False  # it ends with the lab's objects removed
    junit = tmp_path / "docker.xml"
    done = selftest("docker_beginners", "-H", ENGINE, "--junit", str(junit), home=tmp_path)
    assert done.exit_code == 0, done.stdout + done.stderr
    scenarios = 2 + len(LAB.spoilers)  # the fresh host, the solution, each spoiler
    assert f"docker_beginners: proved ({scenarios} scenarios" in done.stdout
    assert set(junit_cases(junit).values()) == {"passed"}
    names = {c["Names"][0].lstrip("/") for c in fresh_host.api.containers(all=True)}
    assert names & {"mydb", "linux_tweet_app"} == set()
