"""The "Docker storage and networks" lab: a named volume, a bind mount, a network of one's
own, a container with limits (``STEPS.md`` beside this file).

Written only against the grader's public API (``from grader import ...`` and its helper
modules ``grader.probes`` and ``grader.imageref``): ``LAB`` is all the grader knows of it,
found through the entry point ``docker_lab_grader.labs:storage_networks``. Its proof: each
task's solution and objects (:mod:`.solution`), a spoiler for each check (:mod:`.spoilers`),
the preflight ``grade start`` checks.
"""

from pathlib import Path

from checks.storage_networks.solution import PREFLIGHT, TASKS
from checks.storage_networks.spoilers import SPOILERS
from grader import LabSpec

LAB = LabSpec(
    name="storage_networks",
    title="Docker storage and networks",
    checks=Path(__file__).parent,
    tasks=TASKS,
    spoilers=SPOILERS,
    preflight=PREFLIGHT,
)

__all__ = ["LAB"]
