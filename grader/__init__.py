"""The student's side of the Docker lab grader: the ``grade`` command and its pytest plugin.

What a lab's checks may use is exported here (``from grader import Lab, fail``), and
so are the helper modules :mod:`grader.dockerfile`, :mod:`grader.imageref` and
:mod:`grader.probes`. The rest of the package is the runner's own, free to change,
filed by kind: :mod:`grader.engine` (the engine's facts), :mod:`grader.targets` (which
engine, and how it is reached), :mod:`grader.run` (grading a lab), :mod:`grader.report`
(the report shown and sent) and :mod:`grader.batch` (a class graded over SSH); a
contract in ``pyproject.toml`` (import-linter) keeps checks off it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("docker-lab-grader")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

from grader.engine.commit_detection import CommitVerdict, detect_commit
from grader.engine.facts import ContainerFacts, Event, ImageFacts
from grader.engine.proof import prove, prove_file
from grader.engine.state import EngineState
from grader.labtools.declared import Files, LabTask, Objects, Preflight, Spoiler, Step
from grader.run.lab import Lab, ProbeTimeout
from grader.run.labs import LabSpec
from grader.run.verdict import CheckFailed, fail
from grader.settings import setting

__all__ = [
    "CheckFailed",
    "CommitVerdict",
    "ContainerFacts",
    "EngineState",
    "Event",
    "Files",
    "ImageFacts",
    "Lab",
    "LabSpec",
    "LabTask",
    "Objects",
    "Preflight",
    "ProbeTimeout",
    "Spoiler",
    "Step",
    "__version__",
    "detect_commit",
    "fail",
    "prove",
    "prove_file",
    "setting",
]
