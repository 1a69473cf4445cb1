"""A lab with two planted mistakes that ``grade lab selftest`` must name.

``planted.always`` passes whatever the machine holds (a wrong check: it passes on a fresh
host), and the spoiler "empty the file" declares that ``planted.file`` fails, which only
asks that the file exist (a wrong spoiler). Its lab starts from an image that is nowhere
(``grade start`` must say so, and that it cannot be pulled).
"""

from __future__ import annotations

from pathlib import Path

from grader import LabSpec, LabTask, Objects, Preflight, Spoiler, Step

#: An image no engine here holds and no registry serves.
ABSENT_IMAGE = "grade-planted/absent-image:1"

LAB = LabSpec(
    name="planted",
    title="A lab with planted mistakes",
    checks=Path(__file__).parent,
    preflight=Preflight(images=(ABSENT_IMAGE,)),
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
