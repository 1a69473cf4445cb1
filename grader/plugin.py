"""The pytest plugin behind the checks: markers, command-line options and the ``lab`` fixture.

Registered under ``pytest11`` like testinfra's, so an instructor can run a lab's
checks with plain ``pytest`` too; ``grade`` drives the same plugin through
``pytest.main``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.connection import connect
from grader.lab import Lab
from grader.marks import MARKER_HELP, task_of
from grader.settings import Settings, resolve_settings

SETTINGS_KEY = pytest.StashKey[Settings]()
LAB_KEY = pytest.StashKey[Lab]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("docker-lab", "Docker lab grading")
    group.addoption("--lab-dockerid", default=None, help="the student's Docker ID ($DOCKERID)")
    group.addoption("--lab-tweet-app", default=None, help="the linux_tweet_app folder")
    group.addoption("--lab-hello-dir", default=None, help="the folder hello:v0.1 was built from")


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKER_HELP:
        config.addinivalue_line("markers", line)


def settings_for(config: pytest.Config) -> Settings:
    """The run's settings: handed over by ``grade``, else read from options and environment."""
    if SETTINGS_KEY not in config.stash:
        config.stash[SETTINGS_KEY] = resolve_settings(
            cli={
                "dockerid": config.getoption("lab_dockerid"),
                "tweet_app": config.getoption("lab_tweet_app"),
                "hello_dir": config.getoption("lab_hello_dir"),
            },
            environ=os.environ,
            cwd=Path.cwd(),
            home=Path.home(),
        )
    return config.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The student's Docker host: engine facts, settings and shared probes."""
    config = request.config
    if LAB_KEY not in config.stash:  # plain pytest; grade hands its own over
        tasks = frozenset(
            task_of(item).id for item in request.session.items if item.get_closest_marker("task")
        )
        config.stash[LAB_KEY] = Lab(connect(os.environ), settings_for(config), selected_tasks=tasks)
    yield config.stash[LAB_KEY]
