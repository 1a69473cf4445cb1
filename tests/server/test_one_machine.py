"""SQLite is for one machine (issue 23): a node of another machine on the same file is refused.

The owner file beside the database says which machine it is (:mod:`webhook.one_machine`);
another machine's process is refused in one line by ``grade-server`` (exit 7, as every
configuration error), by ``grade-server run`` and by gunicorn with the recipe's settings,
never with a traceback. The owner's machine after a reboot, or a container of it, is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devlab.server.enrolment import migrated_sqlite
from devlab.server.services import REPO, free_port
from webhook import create_app
from webhook.cli.errors import EXIT_CONFIG
from webhook.config import ConfigError
from webhook.one_machine import SUFFIX, Machine, claim, this_machine

from .test_cli import grade_server

ELSEWHERE = Machine("lab-server-2", "00000000-0000-4000-8000-000000000002")


def owner_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///") + SUFFIX)


@pytest.fixture
def sqlite(tmp_path: Path) -> str:
    return migrated_sqlite(tmp_path / "grader.sqlite")


def env_for(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "GRADER_DATABASE_URL": url,
        "GRADER_SECRET_KEY": "one machine",
        "GRADER_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def test_the_first_process_makes_its_machine_the_owner(sqlite: str) -> None:
    assert not owner_file(sqlite).exists()
    create_app(environ={"GRADER_DATABASE_URL": sqlite, "GRADER_SECRET_KEY": "k"})
    assert Machine.parse(owner_file(sqlite).read_text()) == this_machine()


def test_another_machines_process_is_refused_naming_the_owner_and_the_way_out(
    sqlite: str,
) -> None:
    claim(sqlite, ELSEWHERE)
    with pytest.raises(ConfigError) as refused:
        create_app(environ={"GRADER_DATABASE_URL": sqlite, "GRADER_SECRET_KEY": "k"})
    message = str(refused.value)
    assert message.startswith("GRADER_DATABASE_URL: ") and "\n" not in message
    assert "'lab-server-2'" in message and "SQLite is for one machine" in message
    assert f"delete {owner_file(sqlite)}" in message
    # Deleting the owner file, as the line says, hands the database to this machine.
    owner_file(sqlite).unlink()
    create_app(environ={"GRADER_DATABASE_URL": sqlite, "GRADER_SECRET_KEY": "k"})
    assert Machine.parse(owner_file(sqlite).read_text()) == this_machine()


def test_the_same_host_after_a_reboot_is_the_owner_still(sqlite: str) -> None:
    here = this_machine()
    claim(sqlite, Machine(here.host, "a boot id before the reboot"))
    claim(sqlite)  # not refused; the new boot id is written down
    assert Machine.parse(owner_file(sqlite).read_text()) == here


def test_a_container_of_the_owners_machine_is_not_another_machine(sqlite: str) -> None:
    here = this_machine()
    assert here.boot, "no boot id on this kernel"
    claim(sqlite, Machine("a-container-id", here.boot))
    claim(sqlite)  # the same kernel: the same machine
    assert Machine.parse(owner_file(sqlite).read_text()).host == "a-container-id"


def test_postgresql_and_memory_databases_have_no_owner_file(tmp_path: Path) -> None:
    claim("postgresql+psycopg://nobody@127.0.0.1:1/none", ELSEWHERE)
    claim("sqlite://", ELSEWHERE)
    claim("sqlite:///:memory:", ELSEWHERE)
    assert list(tmp_path.iterdir()) == []


def test_grade_server_refuses_in_one_line_and_exit_7(sqlite: str, tmp_path: Path) -> None:
    claim(sqlite, ELSEWHERE)
    env = env_for(sqlite, tmp_path)
    for args in (("course", "list"), ("db", "upgrade")):
        result = grade_server(*args, env=env)
        assert result.returncode == EXIT_CONFIG, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "SQLite is for one machine" in lines[0], result.stderr
    run = subprocess.run(
        [str(Path(sys.executable).with_name("grade-server")), "run", "--port", str(free_port())],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == EXIT_CONFIG and "Traceback" not in run.stderr, run.stderr
    assert "SQLite is for one machine" in run.stderr


def test_gunicorn_with_the_recipes_settings_refuses_in_one_line(
    sqlite: str, tmp_path: Path
) -> None:
    claim(sqlite, ELSEWHERE)
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(REPO / "deploy" / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{free_port()}", "--workers", "1",
    ]  # fmt: skip
    result = subprocess.run(
        command, env={**os.environ, **env_for(sqlite, tmp_path), "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in said, said
    assert "grade-server: configuration: GRADER_DATABASE_URL: " in said
    assert "SQLite is for one machine" in said
