"""The instructor decides on a flag: accept it (the report counts again) or reject the report.

Who, when and their note are kept; a flag decided before can be decided again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from webhook.crosscheck.flags import in_chunks, refresh_standing
from webhook.storage.models import Flag, FlagGroup, Submission, utcnow

DECISIONS = ("accept", "reject")


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision made: on which flag, and which report it concerns (if it has one).

    ``student_pk``: the student whose report it is, whose grade may have changed.
    """

    flag_id: int
    submission_id: int | None
    status: str
    student_pk: int | None = None


def decide(
    connection: Connection,
    *,
    course_id: int,
    flag_id: int,
    action: str,
    note: str,
    by: str,
    now: datetime | None = None,
) -> Decided | None:
    """Accept the flag (its report counts again, unless another flag holds it back) or
    reject the report (every open flag of it is decided so; it never counts).

    ``None`` when the course has no such flag. A flag decided before can be decided
    again: the latest decision, its author and time are kept.
    """
    if action not in DECISIONS:
        raise ValueError(f"action must be one of {', '.join(DECISIONS)}")
    row = connection.execute(
        select(Flag.submission_id, Submission.student_pk)
        .outerjoin(Submission, Submission.id == Flag.submission_id)
        .where(Flag.id == flag_id, Flag.course_id == course_id)
    ).first()
    if row is None:
        return None
    submission_id = row.submission_id
    values = {"decided_by": by, "decided_at": now or utcnow(), "note": note}
    if action == "accept":
        connection.execute(
            update(Flag).where(Flag.id == flag_id).values(status="accepted", **values)
        )
        status = "accepted"
    else:
        which = Flag.id == flag_id
        if submission_id is not None:
            which = which | ((Flag.submission_id == submission_id) & (Flag.status == "open"))
        connection.execute(update(Flag).where(which).values(status="rejected", **values))
        status = "rejected"
    if submission_id is not None:
        refresh_standing(connection, [submission_id])
    return Decided(flag_id, submission_id, status, row.student_pk)


@dataclass(frozen=True, slots=True)
class GroupDecided:
    """A decision on a whole flag group: the flags it decided, and whose grades may move."""

    group_id: int
    status: str
    flags: int
    student_pks: tuple[int, ...]


def decide_group(
    connection: Connection,
    *,
    course_id: int,
    group_id: int,
    action: str,
    note: str,
    by: str,
    now: datetime | None = None,
) -> GroupDecided | None:
    """Decide every open flag of a group (issue 20) at once, as :func:`decide` does one:
    accept them, or reject their reports (each such report's other open flags too).

    ``None`` when the course has no such group. A flag of the group decided before keeps
    its decision; each report's can still be changed on its own.
    """
    if action not in DECISIONS:
        raise ValueError(f"action must be one of {', '.join(DECISIONS)}")
    found = connection.execute(
        select(FlagGroup.id).where(FlagGroup.id == group_id, FlagGroup.course_id == course_id)
    ).first()
    if found is None:
        return None
    rows = connection.execute(
        select(Flag.id, Flag.submission_id, Flag.student_pk).where(
            Flag.group_id == group_id, Flag.course_id == course_id, Flag.status == "open"
        )
    ).all()
    values = {"decided_by": by, "decided_at": now or utcnow(), "note": note}
    status = "accepted" if action == "accept" else "rejected"
    ids = [row.id for row in rows]
    reports = sorted({row.submission_id for row in rows if row.submission_id is not None})
    for chunk in in_chunks(ids):
        connection.execute(update(Flag).where(Flag.id.in_(chunk)).values(status=status, **values))
    if action == "reject":
        for chunk in in_chunks(reports):
            connection.execute(
                update(Flag)
                .where(Flag.submission_id.in_(chunk), Flag.status == "open")
                .values(status="rejected", **values)
            )
    refresh_standing(connection, reports)
    students = tuple(sorted({row.student_pk for row in rows}))
    return GroupDecided(group_id, status, len(ids), students)
