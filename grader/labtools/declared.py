"""What a lab declares to prove itself and to tidy up after itself: plain, frozen data.

A lab author writes these beside the checks and hands them to :class:`grader.LabSpec`:

- each task's ``solution`` (the lines a student types, interactive ones with what is typed
  inside) and ``objects`` (what the task leaves on the machine: ``grade reset TASK`` removes
  them, ``grade finish`` removes every task's);
- ``spoilers``: from a solved lab, commands that break one step, and the checks that must
  fail with it (``grade lab selftest`` proves each);
- ``preflight``: what must hold before the lab starts (``grade start``).

Nothing here touches an engine: the commands that use these live beside this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

#: ``$NAME`` or ``${NAME}`` in an object's name: a variable of the student's shell.
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


@dataclass(frozen=True)
class Step:
    """One line a student types into their shell.

    ``typed``: for an interactive step (``docker run -it ...``), the lines typed at the
    prompt inside, in order; the step then runs under a terminal, as does one with ``tty``
    (``docker exec -it`` with nothing typed inside). ``cwd``: the folder it
    is typed in (``~`` is the student's home). ``wait``: seconds to retry the line until
    it succeeds (waiting for a server to come up), 0 to run it once. ``fleeting``: its
    only evidence is in the engine's short event history, so a long self-test types it
    again before each scenario, as a student would redo it.
    """

    command: str
    typed: tuple[str, ...] = ()
    cwd: str = "~"
    wait: float = 0.0
    fleeting: bool = False
    tty: bool = False

    @property
    def interactive(self) -> bool:
        return self.tty or bool(self.typed)


@dataclass(frozen=True)
class Files:
    """Files the student gets or writes by hand (a clone, an editor), under ``folder``.

    ``how`` says what the student really does (``git clone https://...``): a self-test
    writes the files instead, so it needs no network.
    """

    folder: str
    files: Mapping[str, str | bytes] = field(default_factory=dict, compare=False)
    how: str = ""


#: One thing a student does: a line typed, or files made.
Action = Step | Files


@dataclass(frozen=True)
class Objects:
    """What a lab (or one task) leaves on the machine, by name: all that ``finish`` removes.

    ``containers``: container names. ``runs``: unnamed containers, each as ``(image,
    command)``: made from exactly that image reference with that command. ``images``:
    image references; a name without a tag (``ourfiglet``, ``$DOCKERID/linux_tweet_app``)
    means each of its tags, one with a tag only that tag. Containers made from one of
    these images are the lab's too. ``volumes``, ``networks``: by name. ``files``: paths,
    ``~`` the student's home. Names may hold ``$VARIABLES`` of the student's shell.
    """

    containers: tuple[str, ...] = ()
    runs: tuple[tuple[str, str], ...] = ()
    images: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def __add__(self, other: Objects) -> Objects:
        return Objects(
            containers=_both(self.containers, other.containers),
            runs=_both(self.runs, other.runs),
            images=_both(self.images, other.images),
            volumes=_both(self.volumes, other.volumes),
            networks=_both(self.networks, other.networks),
            files=_both(self.files, other.files),
        )

    @property
    def empty(self) -> bool:
        return not any(
            (self.containers, self.runs, self.images, self.volumes, self.networks, self.files)
        )


def _both(mine: tuple[T, ...], theirs: tuple[T, ...]) -> tuple[T, ...]:
    return tuple(dict.fromkeys((*mine, *theirs)))


@dataclass(frozen=True)
class LabTask:
    """One task of the lab (its id as the checks' ``pytest.mark.task`` names it): how a
    student solves it, and what it leaves behind."""

    id: str
    solution: tuple[Action, ...] = ()
    objects: Objects = Objects()


@dataclass(frozen=True)
class Spoiler:
    """From a solved lab, ``commands`` break one step; exactly ``fails`` must then fail
    (the step's own check and those that depend on it).

    ``undo`` puts the lab back; without it, the self-test resets the tasks of the
    failing checks and types their solution again. ``says``: for a failing check, a text
    its message must hold (the student is told why, not only that).
    """

    name: str
    commands: tuple[Action, ...]
    fails: frozenset[str]
    undo: tuple[Action, ...] | None = None
    says: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Preflight:
    """What must hold before the lab starts (``grade start``).

    ``ports``: host ports the lab publishes, to be free. ``images``: the images it starts
    from, present or pullable. ``settings``: the lab's settings a student must set
    (``dockerid``). ``disk_mb``: free space the engine needs. Name conflicts are read from
    the tasks' objects: a ``mydb`` left from an earlier try.
    """

    ports: tuple[int, ...] = ()
    images: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    disk_mb: int = 0


def expand(name: str, variables: Mapping[str, str]) -> str | None:
    """``name`` with its ``$VARIABLES`` filled in; None when one of them is not set."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = variables.get(match.group(1) or match.group(2) or "")
        missing = missing or not found
        return found or ""

    expanded = VARIABLE.sub(value, name)
    return None if missing else expanded
