"""What the flags page shows: the course's flags (or one report's), in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from submissions.integrity import describe
from webhook.storage.models import Course, Flag, Student, Submission

FlagFilter = Literal["open", "decided", "all"]
FLAG_FILTERS: tuple[FlagFilter, ...] = ("open", "decided", "all")


@dataclass(frozen=True, slots=True)
class FlagRow:
    """One flag as the flags page lists it, with its report and the students involved."""

    id: int
    kind: str
    sentence: str  # the flag said in one line, naming the other student
    status: str  # open | accepted | rejected
    student_id: str
    student_name: str
    other_student_id: str | None
    submission_id: int | None  # None: a refused copy, with no report of its own
    score: int | None
    max_score: int | None
    received_at: datetime | None
    decided_by: str
    decided_at: datetime | None
    note: str
    created_at: datetime


def flags(
    session: Session,
    course: Course,
    which: FlagFilter = "open",
    *,
    submission_id: int | None = None,
    ids: list[int] | None = None,
) -> list[FlagRow]:
    """The course's flags (or one report's, or those ``ids``), open ones first, newest
    first: one query."""
    owner, other = aliased(Student), aliased(Student)
    query = (
        select(
            Flag.id,
            Flag.kind,
            Flag.reason,
            Flag.status,
            owner.student_id.label("student_id"),
            owner.name.label("student_name"),
            other.student_id.label("other_student_id"),
            Flag.submission_id,
            Submission.score,
            Submission.max_score,
            Submission.received_at,
            Flag.decided_by,
            Flag.decided_at,
            Flag.note,
            Flag.created_at,
        )
        .join(owner, owner.id == Flag.student_pk)
        .outerjoin(other, other.id == Flag.other_student_pk)
        .outerjoin(Submission, Submission.id == Flag.submission_id)
        .where(Flag.course_id == course.id)
        .order_by(case((Flag.status == "open", 0), else_=1), Flag.created_at.desc(), Flag.id.desc())
    )
    if submission_id is not None:
        query = query.where(Flag.submission_id == submission_id)
    if ids is not None:
        query = query.where(Flag.id.in_(ids))
    if which == "open":
        query = query.where(Flag.status == "open")
    elif which == "decided":
        query = query.where(Flag.status != "open")
    found = []
    for row in session.execute(query).mappings():
        fields = dict(row)  # the columns are named as FlagRow's fields, but reason
        sentence = describe(fields["kind"], fields.pop("reason"), fields["other_student_id"])
        found.append(FlagRow(sentence=sentence, **fields))
    return found


def flag_counts(session: Session, course: Course) -> dict[str, int]:
    """How many of the course's flags are open and how many decided."""
    query = (
        select(Flag.status, func.count()).where(Flag.course_id == course.id).group_by(Flag.status)
    )
    by_status = {status: int(n) for status, n in session.execute(query)}
    counts = {"open": by_status.pop("open", 0), "decided": sum(by_status.values())}
    counts["all"] = counts["open"] + counts["decided"]
    return counts
