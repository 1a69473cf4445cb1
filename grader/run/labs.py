"""Labs are packages that declare themselves; the grader finds them by entry point.

A lab is a folder of checks with what only it knows: its settings, their defaults,
the probes to start early. It declares all of that in one :class:`LabSpec`, named
in its distribution's entry points, so a course can ``pip install`` its own lab::

    [project.entry-points."docker_lab_grader.labs"]
    docker_beginners = "checks.docker_beginners:LAB"

``grade --lab NAME`` picks one. Without a name: the only lab installed, else the lab
that ships with the grader itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import SettingsError
from grader.labtools.declared import LabTask, Objects, Preflight, Spoiler
from grader.settings import fields_of

if TYPE_CHECKING:
    from grader.run.lab import Lab

ENTRY_POINT_GROUP = "docker_lab_grader.labs"
GRADER_DISTRIBUTION = "docker-lab-grader"


@dataclass(frozen=True)
class NoSettings:
    """The settings of a lab that needs none."""


@dataclass(frozen=True)
class LabSpec:
    """Everything the grader knows of a lab: what the lab itself declares.

    ``checks`` is the folder of ``test_*.py`` checks with their own ``pytest.ini``;
    ``settings`` a frozen dataclass of :func:`grader.setting` fields (each becomes a
    ``grade`` option, a ``grade.toml`` key and, where declared, an environment
    variable); ``start_probes`` starts the lab's slow probes as soon as the engine
    answers, before pytest has even loaded the checks. ``known_files`` names the files the
    lab gives unchanged (a ``prove_file`` name → the hashes of every version the lab gives,
    :func:`submissions.dialect.file_digest`): the server's rubric carries them, and a report
    with another hash for one of them is flagged.

    Its proof (:mod:`grader.labtools.declared`): ``tasks``, each with its solution and the
    objects it leaves (``grade reset TASK``); ``spoilers`` (``grade lab selftest``);
    ``preflight`` (``grade start``). ``cleanup``, what ``grade finish`` removes, is every
    task's objects.
    """

    name: str
    title: str
    checks: Path
    settings: type = NoSettings
    start_probes: Callable[[Lab[Any]], None] | None = field(default=None, compare=False)
    known_files: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)
    tasks: tuple[LabTask, ...] = field(default=(), compare=False)
    spoilers: tuple[Spoiler, ...] = field(default=(), compare=False)
    preflight: Preflight = field(default=Preflight(), compare=False)

    def __post_init__(self) -> None:
        fields_of(self.settings)  # a malformed declaration fails at import, not mid-run
        ids = [task.id for task in self.tasks]
        names = [spoiler.name for spoiler in self.spoilers]
        for what, seen in (("task", ids), ("spoiler", names)):
            twice = sorted({one for one in seen if seen.count(one) > 1})
            if twice:
                raise SettingsError(f"lab {self.name!r} declares the {what} {twice[0]!r} twice")
        empty = [spoiler.name for spoiler in self.spoilers if not spoiler.fails]
        if empty:
            raise SettingsError(f"lab {self.name!r}: spoiler {empty[0]!r} names no check to fail")
        for spoiler in self.spoilers:
            if not set(spoiler.says) <= spoiler.fails:
                raise SettingsError(
                    f"lab {self.name!r}: spoiler {spoiler.name!r} says what a passing check says"
                )

    @property
    def cleanup(self) -> Objects:
        """Every object the lab leaves: all ``grade finish`` may remove."""
        total = Objects()
        for task in self.tasks:
            total = total + task.objects
        return total

    def task(self, task_id: str) -> LabTask | None:
        return next((task for task in self.tasks if task.id == task_id), None)


def _installed() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def installed_names() -> list[str]:
    """The names of the installed labs, sorted."""
    return [ep.name for ep in _installed()]


def load_lab(name: str | None = None) -> LabSpec:
    """The lab called ``name``; without one, the default lab (see the module docstring)."""
    labs = _installed()
    names = ", ".join(ep.name for ep in labs) or "none"
    if name is not None:
        chosen = [ep for ep in labs if ep.name == name]
        if not chosen:
            raise SettingsError(f"no lab {name!r} is installed (installed: {names})")
    elif len(labs) > 1:
        chosen = [ep for ep in labs if _distribution(ep) == GRADER_DISTRIBUTION]
        if len(chosen) != 1:
            raise SettingsError(f"several labs are installed ({names}): choose one with --lab")
    else:
        chosen = labs
    if not chosen:
        raise SettingsError(f"no lab is installed (entry point group {ENTRY_POINT_GROUP})")
    return _load(chosen[0])


def lab_of_path(path: Path) -> LabSpec | None:
    """The installed lab whose checks folder holds ``path`` (plain ``pytest`` runs)."""
    for entry in _installed():
        spec = _load(entry)
        if path.resolve().is_relative_to(spec.checks.resolve()):
            return spec
    return None


def _load(entry: EntryPoint) -> LabSpec:
    try:
        spec = entry.load()
    except (ImportError, AttributeError) as exc:
        raise SettingsError(f"lab {entry.name!r} cannot be loaded ({exc})") from None
    if not isinstance(spec, LabSpec) or spec.name != entry.name:
        raise SettingsError(f"entry point {entry.value!r} is not the LabSpec of {entry.name!r}")
    return spec


def _distribution(entry: EntryPoint) -> str:
    dist = entry.dist
    return (dist.metadata["Name"] or "").lower().replace("_", "-") if dist else ""
