"""A second lab, as small as a lab can be: one setting of its own and one check.

It proves that a lab is a folder (here a package under ``tests/``) that declares
itself: the grader finds it through the ``docker_lab_grader.labs`` entry point,
makes ``--motd`` an option of ``grade --lab tiny``, and runs its check, with no
line of ``grader/`` knowing about it. Its proof (a solution, two spoilers, its one file as
what ``grade finish`` removes) is the smallest ``grade lab selftest`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from grader import Lab, LabSpec, LabTask, Objects, Spoiler, Step, setting


@dataclass(frozen=True)
class TinySettings:
    motd: Path = setting(
        default="~/motd.txt", env="TINY_MOTD", help="The message of the day.", metavar="FILE"
    )


TinyLab: TypeAlias = Lab[TinySettings]

LAB = LabSpec(
    name="tiny",
    title="A tiny lab",
    checks=Path(__file__).parent,
    settings=TinySettings,
    tasks=(
        LabTask(
            "task1",
            solution=(Step("echo 'hello, world' > ~/motd.txt"),),
            objects=Objects(files=("~/motd.txt",)),
        ),
    ),
    spoilers=(
        Spoiler(
            "motd says good morning",
            (Step("echo 'good morning' > ~/motd.txt"),),
            frozenset({"motd.hello"}),
        ),
        Spoiler("no motd", (Step("rm ~/motd.txt"),), frozenset({"motd.hello"})),
    ),
)
