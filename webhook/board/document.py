"""What a progress post may say: checked here, pure logic, before anything is stored.

A progress document is a small JSON object::

    {"lab": "docker-basics", "assignment": "lab1",        # assignment: optional
     "checks": [{"id": "image-built", "status": "passed"},
                {"id": "port-open", "status": "failed", "message": "port 8080 is closed"}]}

Each check's id and status, and a failing check's one-line message; no evidence. A
document over :data:`MAX_BYTES`, with more than :data:`MAX_CHECKS` checks, an unknown
status, a check named twice or a field of the wrong kind is refused with one line
(:class:`BadProgress`); a message is cut to its first line and :data:`MAX_MESSAGE`
characters (a long message is no reason to lose the rest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: The largest progress document taken, in bytes.
MAX_BYTES = 16 * 1024
#: The most checks one document may list.
MAX_CHECKS = 100
#: The longest check id.
MAX_ID = 100
#: A message is kept to this many characters (its first line).
MAX_MESSAGE = 200
#: The statuses a check may have; "pending" is a check not run yet.
STATUSES = ("passed", "failed", "error", "skipped", "pending")
#: The statuses that are a failure (their message is kept).
FAILING = ("failed", "error")


class BadProgress(ValueError):
    """A document the server does not take (400), with one line saying why."""


@dataclass(frozen=True, slots=True)
class CheckProgress:
    id: str
    status: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ProgressDocument:
    lab: str
    assignment: str | None
    checks: tuple[CheckProgress, ...]


def parse(body: bytes) -> ProgressDocument:
    """The document in ``body``, checked; :class:`BadProgress` if it is not one."""
    if len(body) > MAX_BYTES:
        raise BadProgress(f"the progress document is over {MAX_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadProgress("the progress document is not JSON (UTF-8)") from None
    if not isinstance(data, dict):
        raise BadProgress("the progress document must be a JSON object")
    lab = _text(data.get("lab"), "lab", 100)
    assignment = data.get("assignment")
    if assignment is not None:
        assignment = _text(assignment, "assignment", 64)
    checks = data.get("checks")
    if not isinstance(checks, list):
        raise BadProgress('"checks" must be a list')
    if len(checks) > MAX_CHECKS:
        raise BadProgress(f'"checks" lists {len(checks)} checks, more than {MAX_CHECKS}')
    parsed = tuple(_check(item, index) for index, item in enumerate(checks))
    if len({check.id for check in parsed}) != len(parsed):
        raise BadProgress('"checks" names a check twice')
    return ProgressDocument(lab, assignment, parsed)


def _check(item: Any, index: int) -> CheckProgress:
    where = f"checks[{index}]"
    if not isinstance(item, dict):
        raise BadProgress(f"{where} must be an object with an id and a status")
    check_id = _text(item.get("id"), f"{where}.id", MAX_ID)
    status = item.get("status")
    if status not in STATUSES:
        raise BadProgress(f"{where}.status must be one of {', '.join(STATUSES)}")
    message = item.get("message", "")
    if message is None:
        message = ""
    if not isinstance(message, str):
        raise BadProgress(f"{where}.message must be a string")
    return CheckProgress(check_id, status, one_line(message) if status in FAILING else "")


def _text(value: Any, name: str, longest: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadProgress(f'"{name}" must be a non-empty string')
    value = value.strip()
    if len(value) > longest or not value.isprintable():
        raise BadProgress(f'"{name}" must be at most {longest} printable characters')
    return value


def one_line(message: str) -> str:
    """A message's first non-empty line, without control characters, cut to MAX_MESSAGE."""
    line = next((part.strip() for part in message.splitlines() if part.strip()), "")
    line = "".join(ch if ch.isprintable() else " " for ch in line)
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
