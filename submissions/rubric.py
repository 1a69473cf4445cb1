"""The server's rubric: the JSON document the server scores every report from.

"Rubric" here means that document and nothing else: which checks exist, their task, title
and points, and what the server trusts (``known_digests`` / ``known_versions``: check-file
digests and grader versions; a report with others is kept but flagged; ``known_files``:
the hashes of the files the lab gives unchanged, by name: a report with another hash for
one of them is flagged ``unknown_file``). The server never
scores from what a report claims. It ships as ``rubric.json`` in this package (generated
from the checks by ``python -m grader.run.rubric --write``); :func:`load_rubric` reads it or an
instructor's own file of the same shape, :func:`shipped_rubric` is the shipped one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RubricEntry:
    id: str
    task: str
    title: str
    points: int
    #: The check's own next step, from the lab: what the gradebook and the API show for a
    #: check that did not pass (a report's hints are not stored: they are the student's text).
    hint: str = ""


#: Longest hint a rubric may give a check (a lab's are one command line).
MAX_HINT = 1000


class RubricError(ValueError):
    """A rubric file that cannot be used; the message names the file and the fault."""


@dataclass(frozen=True)
class Rubric(Mapping[str, RubricEntry]):
    """Check id → :class:`RubricEntry`, in rubric order, plus what the server trusts."""

    lab: str
    entries: tuple[RubricEntry, ...]
    known_digests: frozenset[str] = frozenset()
    known_versions: frozenset[str] = frozenset()
    #: A file evidence name (``tweet_app/index.html``) → the hashes of every version the lab
    #: gives (:func:`submissions.dialect.file_digest`). Files not named here are not checked.
    known_files: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)
    _by_id: dict[str, RubricEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {entry.id: entry for entry in self.entries}
        if len(by_id) != len(self.entries):
            raise RubricError("the rubric lists a check id twice")
        object.__setattr__(self, "_by_id", by_id)

    def __getitem__(self, check_id: str) -> RubricEntry:
        return self._by_id[check_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def max_score(self) -> int:
        return sum(entry.points for entry in self.entries)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(entry.task for entry in self.entries))

    def to_dict(self) -> dict[str, Any]:
        """The rubric as its JSON document (what :meth:`from_dict` reads back equal)."""
        return {
            "lab": self.lab,
            "checks": [
                {"id": e.id, "task": e.task, "title": e.title, "points": e.points}
                | ({"hint": e.hint} if e.hint else {})
                for e in self.entries
            ],
            "known_digests": sorted(self.known_digests),
            "known_versions": sorted(self.known_versions),
        } | (
            {"known_files": {name: sorted(d) for name, d in sorted(self.known_files.items())}}
            if self.known_files
            else {}
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "rubric") -> Rubric:
        try:
            entries = tuple(
                RubricEntry(
                    id=str(item["id"]),
                    task=str(item["task"]),
                    title=str(item.get("title", item["id"])),
                    points=_points(item["points"]),
                    hint=str(item.get("hint", ""))[:MAX_HINT],
                )
                for item in data["checks"]
            )
            return cls(
                lab=str(data["lab"]),
                entries=entries,
                known_digests=frozenset(map(str, data.get("known_digests", ()))),
                known_versions=frozenset(map(str, data.get("known_versions", ()))),
                known_files={
                    str(name): frozenset(str(digest).lower() for digest in digests)
                    for name, digests in dict(data.get("known_files", {})).items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RubricError(f"{source}: not a rubric ({type(exc).__name__}: {exc})") from exc


def _points(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise ValueError(f"points must be an integer from 0 to 1000, not {value!r}")
    return value


def rubric_from_json(text: str, *, source: str = "rubric") -> Rubric:
    """The rubric in the JSON document ``text`` (one stored in the database, or a file's)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RubricError(f"{source}: not JSON ({exc})") from exc
    return Rubric.from_dict(data, source=source)


def load_rubric(path: Path | None = None) -> Rubric:
    """The rubric document at ``path``, else the one shipped with this package."""
    if path is None:
        text = resources.files("submissions").joinpath("rubric.json").read_text("utf-8")
        source = "submissions/rubric.json"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise RubricError(f"{path}: cannot read the rubric ({exc.strerror})") from exc
        source = str(path)
    return rubric_from_json(text, source=source)


@functools.cache
def shipped_rubric() -> Rubric:
    """The ``rubric.json`` shipped in this package (``python -m grader.run.rubric --write``
    regenerates it from the checks), read once per process."""
    return load_rubric()
