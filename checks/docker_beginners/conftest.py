"""What the Docker-for-beginners checks share: the lab's probes, started once.

Under ``grade`` the probes (a throwaway ``ourfiglet`` run, ``docker exec`` into
mydb, the HTTP GET) already started before pytest did; under plain ``pytest``
they start here, before the first check, so checks that need different probes
do not wait on each other.
"""

from __future__ import annotations

import pytest

from checks.docker_beginners import evidence
from checks.docker_beginners.settings import DockerLab


@pytest.fixture(scope="session", autouse=True)
def _start_probes(lab: DockerLab) -> None:
    evidence.start_probes(lab)
