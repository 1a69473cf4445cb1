"""The labs installed on the server's machine, as ``grade`` finds them, and their rubrics.

A lab is what a ``docker_lab_grader.labs`` entry point names (:mod:`grader.run.labs`); an
assignment is one of them in one course. A lab's rubric is the one shipped with it:
``submissions/rubric.json`` for the lab it was written from, else the document
``python -m grader.run.rubric --lab NAME`` writes from the lab's checks (collected, never
run). An instructor's own rubric must name the lab and exactly its checks: points may
change, checks may not (a report's checks would then go unscored or unknown).

The grader is imported only when a lab's checks are collected or its title read: by a
command, or once per process for the LMS's deep linking page (:func:`lab_offer`, cached).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import entry_points

from submissions.rubric import Rubric, RubricError, shipped_rubric

#: The entry point group labs declare themselves in (``grader.run.labs.ENTRY_POINT_GROUP``).
ENTRY_POINT_GROUP = "docker_lab_grader.labs"


class UnknownLab(LookupError):
    """No lab of that name is installed; the message lists those that are."""


def installed_labs() -> list[str]:
    """The names of the installed labs, sorted (their entry points, not loaded)."""
    return sorted({entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)})


def known_lab(name: str) -> str:
    """``name``, if a lab of that name is installed."""
    labs = installed_labs()
    if name not in labs:
        raise UnknownLab(f"no lab {name[:100]!r} is installed (installed: {', '.join(labs)})")
    return name


def lab_rubric(name: str) -> Rubric:
    """The rubric shipped with the lab ``name`` (see the module's docstring)."""
    known_lab(name)
    shipped = shipped_rubric()
    if shipped.lab == name:
        return shipped
    return Rubric.from_dict(_written(name), source=f"lab {name}'s checks")


def _written(name: str) -> dict[str, object]:
    from grader.errors import GradingError
    from grader.run.labs import load_lab
    from grader.run.rubric import rubric_document

    try:
        return rubric_document(load_lab(name))
    except GradingError as exc:
        raise RubricError(f"lab {name}'s checks cannot be read: {exc}") from None


def check_matches(rubric: Rubric, lab: str, checks: Rubric) -> None:
    """Refuse ``rubric`` for ``lab`` unless it names the lab and exactly ``checks``' checks."""
    if rubric.lab != lab:
        raise RubricError(f"the rubric is for lab {rubric.lab!r}, not {lab!r}")
    missing = [check for check in checks if check not in rubric]
    extra = [check for check in rubric if check not in checks]
    if missing or extra:
        said = [
            *([f"missing {', '.join(missing[:5])}"] if missing else []),
            *([f"not lab {lab}'s: {', '.join(extra[:5])}"] if extra else []),
        ]
        raise RubricError(f"the rubric does not match lab {lab}'s checks ({'; '.join(said)})")


@dataclass(frozen=True)
class LabOffer:
    """What an instructor picking a lab is shown: its name, title and points."""

    name: str
    title: str
    max_score: int


@functools.lru_cache(maxsize=64)
def lab_offer(name: str) -> LabOffer:
    """The installed lab ``name``'s title and its shipped rubric's maximum (read once per
    process: it imports the lab, and may collect its checks)."""
    from grader.run.labs import load_lab

    rubric = lab_rubric(name)
    return LabOffer(name, load_lab(name).title, rubric.max_score)
