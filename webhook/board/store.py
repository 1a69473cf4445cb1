"""The writes of a progress post: the student's one row updated in place, a change kept in
the bounded history, the post counted against the student's progress rate.

All in one transaction inside the write lock (:func:`webhook.storage.db.write_transaction`),
the rule every writer follows. A post that changes nothing (the same checks, statuses and
messages) only moves ``received_at``: the board's "idle" is the time since the last
*change*, and the history holds changes only.

Each check keeps ``since``: when it took its present status and message. The board's
"stuck" is a failing check whose ``since`` is older than the assignment's limit.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from webhook.board.document import CheckProgress
from webhook.board.models import DEFAULT_STUCK_MINUTES, BoardSetting, Progress, ProgressChange

#: Changes kept per student and assignment (the oldest go first).
HISTORY_KEPT = 200

_SETTING = select(BoardSetting.progress, BoardSetting.stuck_minutes).where(
    BoardSetting.assignment_id == bindparam("assignment_id")
)
_LATEST = select(Progress.id, Progress.checks).where(
    Progress.assignment_id == bindparam("assignment_id"),
    Progress.student_pk == bindparam("student_pk"),
)
_INSERT = insert(Progress)
_TOUCH = update(Progress).where(Progress.id == bindparam("row_id"))
_CHANGE = insert(ProgressChange)
_OLDEST_KEPT = (
    select(ProgressChange.id)
    .where(
        ProgressChange.assignment_id == bindparam("assignment_id"),
        ProgressChange.student_pk == bindparam("student_pk"),
    )
    .order_by(ProgressChange.id.desc())
    .offset(HISTORY_KEPT - 1)
    .limit(1)
)
_FORGET = delete(ProgressChange).where(
    ProgressChange.assignment_id == bindparam("assignment_id"),
    ProgressChange.student_pk == bindparam("student_pk"),
    ProgressChange.id < bindparam("oldest"),
)


def setting(connection: Connection, assignment_id: int) -> tuple[bool, int]:
    """Whether the assignment takes progress, and its stuck limit in minutes."""
    row = connection.execute(_SETTING, {"assignment_id": assignment_id}).first()
    if row is None:
        return False, DEFAULT_STUCK_MINUTES
    return bool(row.progress), int(row.stuck_minutes)


def record(
    connection: Connection,
    assignment_id: int,
    student_pk: int,
    checks: tuple[CheckProgress, ...],
    now: datetime,
) -> bool:
    """Store the student's progress; whether it changed anything (then it is in the history)."""
    key = {"assignment_id": assignment_id, "student_pk": student_pk}
    row = connection.execute(_LATEST, key).first()
    before = _by_id(row.checks) if row is not None else {}
    stamped = [_stamped(check, before.get(check.id), now.timestamp()) for check in checks]
    changed = row is None or [_said(c) for c in stamped] != [_said(c) for c in before.values()]
    text = json.dumps(stamped, separators=(",", ":"), ensure_ascii=False)
    if row is None:
        connection.execute(_INSERT, {**key, "checks": text, "received_at": now, "changed_at": now})
    elif changed:
        values = {"checks": text, "received_at": now, "changed_at": now}
        connection.execute(_TOUCH.values(**values), {"row_id": row.id})
    else:
        connection.execute(_TOUCH.values(received_at=now), {"row_id": row.id})
    if changed:
        connection.execute(_CHANGE, {**key, "at": now, "checks": text})
        oldest = connection.execute(_OLDEST_KEPT, key).scalar()
        if oldest is not None:
            connection.execute(_FORGET, {**key, "oldest": oldest})
    return changed


def _by_id(text: str) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in json.loads(text)}


def _said(check: dict[str, Any]) -> tuple[str, str, str]:
    return check["id"], check["status"], check.get("message", "")


def _stamped(check: CheckProgress, before: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """The check as stored: ``since`` kept while its status and message stay the same."""
    same = before is not None and _said(before) == (check.id, check.status, check.message)
    since = before["since"] if same and before is not None else round(now, 1)
    stored: dict[str, Any] = {"id": check.id, "status": check.status, "since": since}
    if check.message:
        stored["message"] = check.message
    return stored


def set_board(
    connection: Connection, assignment_id: int, *, progress: bool | None, stuck_minutes: int | None
) -> tuple[bool, int]:
    """Change the assignment's board settings (``None``: as it was); what is now in force."""
    taken, limit = setting(connection, assignment_id)
    taken = taken if progress is None else progress
    limit = limit if stuck_minutes is None else stuck_minutes
    exists = connection.execute(_SETTING, {"assignment_id": assignment_id}).first() is not None
    values = {"progress": taken, "stuck_minutes": limit}
    if exists:
        connection.execute(
            update(BoardSetting).where(BoardSetting.assignment_id == assignment_id).values(values)
        )
    else:
        connection.execute(insert(BoardSetting).values(assignment_id=assignment_id, **values))
    return taken, limit


def said(taken: bool, stuck_minutes: int) -> str:
    """The settings in a few words, as the CLI and the page say them."""
    state = "on" if taken else "off"
    return f"class board progress {state}, stuck after {stuck_minutes} min"
