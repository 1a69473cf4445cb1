"""A student's own progress, for their LTI launch page (issue 22's privacy rule).

Read by the student's primary key from the validated launch (never an id from the request),
so a page can only ever show its own student's row; nothing when the assignment's board is
off (the instructor has not turned progress on) or the student has sent none yet. Checks
come in the rubric's order (then any the rubric does not name), each with its status said
as a symbol *and* a word, never colour alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from webhook.board import store
from webhook.board.document import FAILING
from webhook.board.models import Progress
from webhook.storage.assignments import newest_rubric

#: How each status is said on the page: a symbol (decoration) and the word (the meaning).
SAID = {
    "passed": ("✓", "passed"),
    "failed": ("✗", "failed"),
    "error": ("!", "error"),
    "skipped": ("○", "skipped"),
    "pending": ("…", "not run yet"),
}


@dataclass(frozen=True, slots=True)
class OwnCheck:
    id: str
    title: str
    status: str
    symbol: str
    word: str
    message: str  # a failing check's one line; empty otherwise


@dataclass(frozen=True, slots=True)
class OwnProgress:
    checks: tuple[OwnCheck, ...]
    changed_at: datetime

    @property
    def passed(self) -> int:
        return sum(1 for check in self.checks if check.status == "passed")


def own_progress(
    connection: Connection | Session, assignment_id: int, student_pk: int
) -> OwnProgress | None:
    """The student's latest progress on the assignment, or ``None`` (board off, or none)."""
    bound = connection.connection() if isinstance(connection, Session) else connection
    taken, _ = store.setting(bound, assignment_id)
    if not taken:
        return None
    row = connection.execute(
        select(Progress.checks, Progress.changed_at).where(
            Progress.assignment_id == assignment_id, Progress.student_pk == student_pk
        )
    ).first()
    if row is None:
        return None
    rubric = newest_rubric(connection, assignment_id)
    order = {check_id: index for index, check_id in enumerate(rubric)}
    stored = json.loads(row.checks)
    stored.sort(key=lambda check: order.get(check["id"], len(order)))
    checks = tuple(
        OwnCheck(
            id=check["id"],
            title=rubric[check["id"]].title if check["id"] in rubric else check["id"],
            status=check["status"],
            symbol=SAID.get(check["status"], ("?", check["status"]))[0],
            word=SAID.get(check["status"], ("?", check["status"]))[1],
            message=check.get("message", "") if check["status"] in FAILING else "",
        )
        for check in stored
    )
    return OwnProgress(checks, row.changed_at)


def ago(then: datetime, now: datetime) -> str:
    """``then`` as time before ``now``, in words a student reads at a glance."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
