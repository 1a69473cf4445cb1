"""A lab with two planted mistakes that ``grade lab selftest`` must name.

``planted.always`` passes whatever the machine holds (a wrong check: it passes on a fresh
host), and the spoiler "empty the file" declares that ``planted.file`` fails, which only
asks that the file exist (a wrong spoiler).
"""

from __future__ import annotations

from pathlib import Path

from grader import LabSpec, LabTask, Objects, Spoiler, Step

LAB = LabSpec(
    name="planted",
    title="A lab with planted mistakes",
    checks=Path(__file__).parent,
    tasks=(
        LabTask(
            "task1",
            solution=(Step("echo planted > ~/planted.txt"),),
            objects=Objects(files=("~/planted.txt",)),
        ),
    ),
    spoilers=(
        Spoiler("remove the file", (Step("rm ~/planted.txt"),), frozenset({"planted.file"})),
        Spoiler(
            "empty the file",
            (Step(": > ~/planted.txt"),),
            frozenset({"planted.file"}),
            undo=(Step("echo planted > ~/planted.txt"),),
        ),
    ),
)
