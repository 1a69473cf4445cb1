"""The pytest plugin behind the checks: markers, a command-line option and the ``lab`` fixture.

Registered under ``pytest11`` like testinfra's, so an instructor can run a lab's
checks with plain ``pytest`` too (``pytest checks/docker_beginners --lab-set
dockerid=ada``); ``grade`` drives the same plugin through ``pytest.main`` and
hands over its own lab, settings read and probes running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.run.lab import Lab
from grader.run.labs import lab_of_path
from grader.run.marks import MARKER_HELP, task_of
from grader.settings import (
    ConfigFile,
    RunSettings,
    parse_assignments,
    refuse_unknown,
    resolve,
)
from grader.targets.target import LocalTarget

LAB_KEY = pytest.StashKey[Lab[Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("docker-lab", "Docker lab grading")
    group.addoption(
        "--lab-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the lab (dockerid=ada); repeatable",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKER_HELP:
        config.addinivalue_line("markers", line)


def _plain_pytest_lab(request: pytest.FixtureRequest) -> Lab[Any]:
    """The lab of the collected checks, with settings from ``--lab-set``, env and grade.toml."""
    session = request.session
    first = Path(str(session.items[0].path))
    spec = lab_of_path(first)
    if spec is None:
        raise pytest.UsageError(f"{first} belongs to no installed lab")
    cli = parse_assignments(request.config.getoption("lab_set"), "--lab-set")
    refuse_unknown(cli, "--lab-set", spec.settings)
    config = ConfigFile.read(Path.cwd())
    config.refuse_unknown(RunSettings, spec.settings)
    run = resolve(RunSettings, cli={}, environ=os.environ, config=config, home=Path.home())
    lab_settings: object = resolve(
        spec.settings, cli=cli, environ=os.environ, config=config, home=Path.home()
    )
    tasks = frozenset(task_of(item).id for item in session.items if item.get_closest_marker("task"))
    target = LocalTarget(os.environ)
    return Lab(target, lab_settings, check_timeout=run.check_timeout, selected_tasks=tasks)


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab[Any]]:
    """The student's Docker host: engine facts, the lab's settings and shared probes."""
    config = request.config
    if LAB_KEY not in config.stash:  # plain pytest; grade hands its own over
        config.stash[LAB_KEY] = _plain_pytest_lab(request)
    yield config.stash[LAB_KEY]
