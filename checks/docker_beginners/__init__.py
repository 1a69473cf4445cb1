"""The "Docker for beginners" lab: run containers, package an app, commit and build images.

``LAB`` is what the grader knows of this lab, found through the entry point
``docker_lab_grader.labs:docker_beginners``: the checks beside this file, the
lab's settings, the files it gives unchanged (by hash, :mod:`.known_files`), its proof
(each task's solution and objects, :mod:`.solution`; the spoilers, :mod:`.spoilers`), and
``start_probes``, which starts the slow probes as soon as the
engine answers, before pytest has even loaded the checks.
"""

from pathlib import Path

from checks.docker_beginners.evidence import start_probes
from checks.docker_beginners.known_files import KNOWN_FILES
from checks.docker_beginners.settings import BeginnersSettings
from checks.docker_beginners.solution import PREFLIGHT, TASKS
from checks.docker_beginners.spoilers import SPOILERS
from grader import LabSpec

LAB = LabSpec(
    name="docker_beginners",
    title="Docker for beginners",
    checks=Path(__file__).parent,
    settings=BeginnersSettings,
    start_probes=start_probes,
    known_files=KNOWN_FILES,
    tasks=TASKS,
    spoilers=SPOILERS,
    preflight=PREFLIGHT,
)

__all__ = ["LAB"]
