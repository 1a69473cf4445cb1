"""What the Docker-for-beginners checks share: the lab's objects, found once, and its probes.

Probes (a throwaway ``ourfiglet`` run, ``docker exec`` into mydb, the HTTP GET)
start in the background as soon as the run begins, so checks that need
different probes do not wait on each other.
"""

from __future__ import annotations

import pytest

from checks.docker_beginners import evidence
from grader.lab import Lab


@pytest.fixture(scope="session", autouse=True)
def _start_probes(lab: Lab) -> None:
    """Kick off the slow probes of the selected tasks before the first check runs."""
    evidence.start_probes(lab)
