"""``-H/--host`` and the SSH options: which target a command line means, before connecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import SettingsError
from grader.targets.target import TargetOptions


def test_dash_h_ssh_grades_that_machine_whole() -> None:
    where = TargetOptions(host="ssh://ada@lab-07:2222")
    assert where.over_ssh
    engine = where.engine({"DOCKER_HOST": "unix:///ignored.sock"})
    assert (engine.context, engine.host, engine.chosen_by) == (
        "default",
        "ssh://ada@lab-07:2222",
        "-H/--host",
    )


@pytest.mark.parametrize("host", ["unix:///run/other.sock", "tcp://10.0.0.5:2375", None])
def test_other_hosts_are_an_engine_of_this_machine(host: str | None, tmp_path: Path) -> None:
    where = TargetOptions(host=host)
    assert not where.over_ssh
    engine = where.engine({"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)})
    assert engine.host == (host or "unix:///var/run/docker.sock")


def test_ssh_options_go_with_an_ssh_engine_only(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    environ = {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}
    with pytest.raises(SettingsError, match="go with an ssh:// engine"):
        TargetOptions(host="unix:///run/other.sock", ssh_config=config).engine(environ)
    with pytest.raises(SettingsError, match="go with an ssh:// engine"):
        TargetOptions(identity_file=config).engine(environ)
    over_env = TargetOptions(ssh_config=config).engine({**environ, "DOCKER_HOST": "ssh://u@h"})
    assert over_env.host == "ssh://u@h" and over_env.chosen_by == "$DOCKER_HOST"


def test_a_malformed_host_is_refused_before_anything_runs() -> None:
    with pytest.raises(SettingsError, match="expected unix:///PATH"):
        TargetOptions(host="http://engine:2375").engine({})
