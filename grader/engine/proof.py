"""How a passed check says what proved it: the lab's own objects, by identifier.

A check calls :func:`prove` with the containers, images and engine events it
judged, and :func:`prove_file` with the files it read; the collector puts them
in the check's result, and the report carries them so the server can cross-check
reports (two students with one container, a report typed by hand). Only
identifiers, times and hashes are taken: never a file's contents, a container's
environment (the MySQL password) or anything outside the lab's objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from grader.engine.facts import ContainerFacts, Event, ImageFacts
from submissions.dialect import Evidence, file_digest

_taken: list[Evidence] = []


def prove(*things: ContainerFacts | ImageFacts | Event) -> None:
    """Record that these objects proved the current check (it must still pass to count)."""
    for thing in things:
        if isinstance(thing, ContainerFacts):
            evidence = Evidence(
                "container",
                thing.id,
                created=_rfc3339(thing.attrs.get("Created")),
                image=thing.image_id,
                name=thing.name,
            )
        elif isinstance(thing, ImageFacts):
            evidence = Evidence(
                "image", thing.id, created=_rfc3339(thing.attrs.get("Created")), name=thing.name
            )
        else:
            evidence = Evidence(
                "event", thing.actor_id, created=_from_epoch(thing.time), name=thing.action
            )
        if evidence not in _taken:
            _taken.append(evidence)


def prove_file(name: str, content: bytes) -> None:
    """Record the sha256 of a file the check read; ``name`` says which (``hello/index.js``).

    Line endings are hashed as LF (:func:`submissions.dialect.file_digest`): a Windows
    checkout (``core.autocrlf``) of a file the lab gives is the lab's file, and the server
    knows the lab's files by their hashes.
    """
    evidence = Evidence("file", file_digest(content), name=name)
    if evidence not in _taken:
        _taken.append(evidence)


def begin() -> None:
    """A new check starts: forget what the previous one proved."""
    _taken.clear()


def taken() -> tuple[Evidence, ...]:
    """What the current check proved so far."""
    return tuple(_taken)


def _rfc3339(value: Any) -> str:
    """Docker's RFC 3339 time (nanoseconds, ``Z``) as ISO 8601 UTC, or "" when odd."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    except ValueError:
        return ""


def _from_epoch(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat() if seconds else ""
