"""A second lab, installed beside the Docker one, is found and graded with no change in grader/.

The tiny lab (``tests/labs/tiny``) is registered the way ``pip install`` of a course's
own lab package would register it: a distribution's metadata with an entry point in
the ``docker_lab_grader.labs`` group, on the path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.conftest import Graded, run_grade

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_installed(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine where a course also installed the tiny lab."""
    dist = tmp_path / "site" / "tiny_lab-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-lab\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[docker_lab_grader.labs]\ntiny = tests.labs.tiny:LAB\n")
    return {"PYTHONPATH": f"{dist.parent}:{REPO}"}


def grade_tiny(*args: str, home: Path, env: dict[str, str]) -> Graded:
    return run_grade("--lab", "tiny", *args, home=home, env=env)


def test_the_tiny_lab_passes_with_its_own_setting(engine, tiny_installed, tmp_path) -> None:
    motd = tmp_path / "hello.txt"
    motd.write_text("Hello, world\n")
    graded = grade_tiny("--json", "--motd", str(motd), home=tmp_path, env=tiny_installed)
    assert graded.exit_code == 0, graded.stderr
    assert graded.doc["lab"] == "tiny"
    assert graded.checks["motd.hello"]["status"] == "passed"
    assert (graded.doc["score"], graded.doc["max_score"]) == (3, 3)


def test_the_tiny_lab_fails_with_its_message(engine, tiny_installed, tmp_path) -> None:
    (tmp_path / "motd.txt").write_text("good morning\n")  # the setting's default, ~/motd.txt
    graded = grade_tiny("--json", home=tmp_path, env=tiny_installed)
    assert graded.exit_code == 1
    assert graded.checks["motd.hello"]["status"] == "failed"
    assert graded.message("motd.hello") == f"{tmp_path / 'motd.txt'} does not say hello"


def test_its_setting_comes_from_its_environment_variable_and_grade_toml(
    engine, tiny_installed, tmp_path
) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path / "grade.toml").write_text('lab = "tiny"\nmotd = "b.txt"\n')
    from_env = run_grade("--json", home=tmp_path, env={**tiny_installed, "TINY_MOTD": "a.txt"})
    assert from_env.exit_code == 0, from_env.stderr
    from_file = run_grade("--json", home=tmp_path, env=tiny_installed)  # grade.toml picks tiny
    assert from_file.exit_code == 1
    assert "b.txt" in from_file.message("motd.hello")


def test_its_options_are_its_own(engine, tiny_installed, tmp_path) -> None:
    tiny_help = grade_tiny("--help", home=tmp_path, env=tiny_installed)
    assert tiny_help.exit_code == 0
    assert "--motd FILE" in tiny_help.stdout and "--dockerid" not in tiny_help.stdout
    assert 'lab "A tiny lab"' in tiny_help.stdout
    refused = grade_tiny("--dockerid", "x", home=tmp_path, env=tiny_installed)
    assert refused.exit_code == 2
    assert "No such option '--dockerid'" in refused.stderr


def test_the_docker_lab_stays_the_default(engine, tiny_installed, tmp_path) -> None:
    graded = run_grade("--json", "task1", home=tmp_path, env=tiny_installed)
    assert graded.doc["lab"] == "docker_beginners"
    assert {check["task"] for check in graded.doc["checks"]} == {"task1"}


def test_an_unknown_lab_is_a_one_line_error(engine, tiny_installed, tmp_path) -> None:
    graded = run_grade("--lab", "nope", home=tmp_path, env=tiny_installed)
    assert graded.exit_code == 2
    assert graded.stderr.strip() == (
        "grade: no lab 'nope' is installed (installed: docker_beginners, storage_networks, tiny)"
    )
