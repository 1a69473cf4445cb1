"""Engine events ``grade`` once saw, kept for when the engine has forgotten them.

Step 1.2 of the lab (``docker container run --interactive --tty --rm ubuntu bash``) leaves
nothing behind but events, and the engine keeps only its latest 256 of those, in memory:
300 short ``docker run``\\ s later, or after a restart (a laptop's reboot), the step is gone.
So the events that proved such a step are kept in the user's data folder, beside the
submit outbox (``~/.local/share/grade/remembered/<engine id>.json``), one file per engine.

What is kept is only what the engine reported on ``/events`` (as it returned it, raw), and
only the events of a container a check accepted. What is read back is checked for shape
(a container event of a 64-hex container, a time, string attributes, the engine's own id)
and then judged by the same logic as the engine's own events: a hand-edited file cannot
pass a check with arbitrary text. It can with well-formed made-up events: the file is the
user's, so it is a memory for the student, not proof for the instructor; the check says
"seen on <date>" and its evidence names the event, so a remembered pass can be told apart.

Memory never stops grading: an unreadable file is no memory, an unwritable folder no
memory kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.data_folder import data_folder

#: A file bigger than this is not ours (a few containers' events are a few kilobytes).
MAX_FILE_BYTES = 256 * 1024
#: Events kept per engine; the oldest go first.
MAX_EVENTS = 200
#: Engines remembered; the one not written to for longest goes first (an engine whose
#: ``info`` ID changes each call, as Podman's compat API's may, must not fill the folder).
MAX_ENGINES = 16
FORMAT_VERSION = 1

_HEX_ID = re.compile(r"[0-9a-f]{64}")
_ENGINE_ID = re.compile(r"[A-Za-z0-9:_.-]{1,200}")


@dataclass(frozen=True)
class Recalled:
    """One remembered event: as ``/events`` returned it, and when ``grade`` saw it."""

    event: dict[str, Any]
    seen: datetime


def memory_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where memories live: beside the outbox, in the user's data folder."""
    return data_folder(environ) / "remembered"


def event_key(raw: Mapping[str, Any]) -> tuple[Any, ...]:
    """What tells two reports of one engine event apart: when, what, and to which object."""
    actor = raw.get("Actor") or {}
    actor_id = actor.get("ID") if isinstance(actor, Mapping) else None
    return (raw.get("timeNano"), raw.get("Action") or raw.get("status"), actor_id or raw.get("id"))


def well_formed(raw: object, *, now_ns: int) -> bool:
    """True for a container event shaped as the engine reports one, from the past."""
    if not isinstance(raw, dict) or raw.get("Type") != "container":
        return False
    actor, action, when = raw.get("Actor"), raw.get("Action"), raw.get("timeNano")
    if not isinstance(actor, dict) or not isinstance(action, str) or not action:
        return False
    if not isinstance(actor.get("ID"), str) or not _HEX_ID.fullmatch(actor["ID"]):
        return False
    attributes = actor.get("Attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        return False
    return isinstance(when, int) and not isinstance(when, bool) and 0 < when <= now_ns


class EventMemory:
    """The remembered events of one engine, in one file of a folder."""

    def __init__(self, folder: Path, engine_id: str) -> None:
        self.engine_id = engine_id
        self.path = folder / f"{_file_name(engine_id)}.json"

    def recall(self) -> list[Recalled]:
        """The well-formed events remembered for this engine; none when the file is unusable."""
        try:
            with self.path.open("rb") as handle:
                data = json.loads(handle.read(MAX_FILE_BYTES + 1) or b"null")
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict) or data.get("engine") != self.engine_id:
            return []
        records = data.get("events")
        if not isinstance(records, list) or len(records) > MAX_EVENTS:
            return []
        now_ns = time.time_ns()
        recalled = []
        for record in records:
            if not isinstance(record, dict) or not well_formed(record.get("event"), now_ns=now_ns):
                continue
            seen = _seen(record.get("seen"))
            if seen is None or seen.timestamp() * 1e9 < record["event"]["timeNano"] - 1e9:
                continue  # seen before it happened: not something grade wrote
            recalled.append(Recalled(record["event"], seen))
        return recalled

    def keep(self, events: Iterable[dict[str, Any]], *, seen: datetime | None = None) -> bool:
        """Add these engine-reported events; False when nothing could be written (no matter).

        Written aside and renamed, so a reader never finds half a file.
        """
        now_ns = time.time_ns()
        fresh = [e for e in events if well_formed(e, now_ns=now_ns)]
        if not fresh:
            return False
        seen_at = (seen or datetime.now(UTC)).isoformat(timespec="seconds")
        kept = [(r.seen.isoformat(timespec="seconds"), r.event) for r in self.recall()]
        known = {event_key(event) for _, event in kept}
        added = [(seen_at, event) for event in fresh if event_key(event) not in known]
        if not added:
            return True
        newest = sorted([*kept, *added], key=lambda pair: pair[1]["timeNano"])[-MAX_EVENTS:]
        document = {
            "version": FORMAT_VERSION,
            "engine": self.engine_id,
            "events": [{"seen": when, "event": event} for when, event in newest],
        }
        try:
            self._write(json.dumps(document, indent=1).encode("utf-8"))
        except OSError:
            return False
        return True

    def _write(self, content: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._forget_other_engines()

    def _forget_other_engines(self) -> None:
        """Keep the :data:`MAX_ENGINES` engines written to last, this one among them."""
        others = [p for p in self.path.parent.glob("*.json") if p != self.path]
        with contextlib.suppress(OSError):
            others.sort(key=lambda p: p.stat().st_mtime_ns)
            for stale in others[: max(0, len(others) - (MAX_ENGINES - 1))]:
                stale.unlink()


def _file_name(engine_id: str) -> str:
    """The engine's id as a file name: Docker's ``ABCD:EFGH:...`` or a UUID, nothing else."""
    if _ENGINE_ID.fullmatch(engine_id) and not engine_id.startswith("."):
        return engine_id.replace(":", "-")
    return "engine-" + "".join(f"{ord(ch):x}" for ch in engine_id[:64])


def _seen(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        seen = datetime.fromisoformat(value)
    except ValueError:
        return None
    return seen if seen.tzinfo is not None else None
