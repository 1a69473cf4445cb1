"""One page of the flags page (issue 20, item 6): 50 entries, where a shared piece of
evidence is one entry listing its students, so that a page costs the same however many
students share an engine or how many flags the course has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from submissions.integrity import describe_keys
from webhook.storage.models import Course, Flag, FlagGroup, Student

from .flag_queries import FlagFilter, FlagRow, flags

#: Entries (a flag, or a group of flags) on one page of the flags page.
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Member:
    """One student of a flag group: their flagged reports in it, how many still open;
    ``first``: the student who showed the evidence first (no flag of theirs: they count)."""

    student_id: str
    name: str
    reports: int
    open: int
    first: bool = False


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A shared piece of evidence, listed once with its students (the first one first)."""

    id: int
    kind: str
    sentence: str
    first_student_id: str
    status: str  # open while any of its flags is
    members: list[Member]
    flags: int
    open: int


def _filtered(query: Any, which: FlagFilter) -> Any:
    if which == "open":
        return query.where(Flag.status == "open")
    if which == "decided":
        return query.where(Flag.status != "open")
    return query


def flag_page(
    session: Session,
    course: Course,
    which: FlagFilter = "open",
    *,
    page: int = 0,
    group_id: int | None = None,
) -> tuple[list[FlagRow | GroupRow], bool]:
    """Page ``page`` (from 0) of entries, open first, newest first; and whether a next exists.

    A flag of no group is an entry, and so is each group (its flags counted, its students
    listed): one query for the page's order, then its flags and its groups by id. With
    ``group_id``: that group's flags, one entry each (to decide report by report).
    """
    rank = case((Flag.status == "open", 0), else_=1)
    mine = Flag.course_id == course.id
    singles = select(
        literal("f").label("what"), Flag.id.label("ref"), rank.label("rank"),
        Flag.created_at.label("at"),
    )  # fmt: skip
    if group_id is not None:
        order: Any = _filtered(singles.where(mine, Flag.group_id == group_id), which)
    else:
        grouped = (
            select(literal("g").label("what"), Flag.group_id.label("ref"),
                   func.min(rank).label("rank"), func.max(Flag.created_at).label("at"))
            .where(mine, Flag.group_id.is_not(None))
            .group_by(Flag.group_id)
        )  # fmt: skip
        order = union_all(
            _filtered(singles.where(mine, Flag.group_id.is_(None)), which),
            _filtered(grouped, which),
        )
    entries = order.subquery()
    rows = session.execute(
        select(entries.c.what, entries.c.ref)
        .order_by(entries.c.rank, entries.c.at.desc(), entries.c.ref.desc())
        .limit(PAGE_SIZE + 1)
        .offset(page * PAGE_SIZE)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    flag_ids = [ref for what, ref in rows if what == "f"]
    by_flag = (
        {row.id: row for row in flags(session, course, "all", ids=flag_ids)} if flag_ids else {}
    )
    by_group = _groups(session, course, which, [ref for what, ref in rows if what == "g"])
    found: list[FlagRow | GroupRow] = [
        by_flag[ref] if what == "f" else by_group[ref] for what, ref in rows
    ]
    return found, more


def _groups(
    session: Session, course: Course, which: FlagFilter, ids: list[int]
) -> dict[int, GroupRow]:
    """These groups with their students: one query for the groups, one for the members."""
    if not ids:
        return {}
    heads = session.execute(
        select(FlagGroup.id, FlagGroup.value, Student.student_id, Student.name)
        .join(Student, Student.id == FlagGroup.first_student_pk)
        .where(FlagGroup.course_id == course.id, FlagGroup.id.in_(ids))
    ).all()
    is_open = case((Flag.status == "open", 1), else_=0)
    members: dict[int, list[Member]] = {gid: [] for gid in ids}
    query = (
        select(Flag.group_id, Student.student_id, Student.name, func.count(), func.sum(is_open))
        .join(Student, Student.id == Flag.student_pk)
        .where(Flag.course_id == course.id, Flag.group_id.in_(ids))
        .group_by(Flag.group_id, Student.student_id, Student.name)
        .order_by(Flag.group_id, Student.student_id)
    )
    for gid, student_id, name, count, still_open in session.execute(_filtered(query, which)):
        members[gid].append(Member(student_id, name, int(count), int(still_open or 0)))
    found = {}
    for gid, value, first_id, first_name in heads:
        own = next((m for m in members[gid] if m.student_id == first_id), None)
        first = Member(
            first_id, first_name, own.reports if own else 0, own.open if own else 0, True
        )
        listed = [first, *(m for m in members[gid] if m.student_id != first_id)]
        still_open = sum(m.open for m in listed)
        found[gid] = GroupRow(
            id=gid,
            kind="shared_evidence",
            sentence=f"{len(listed)} students' reports name {describe_keys([value])}",
            first_student_id=first_id,
            status="open" if still_open else "decided",
            members=listed,
            flags=sum(m.reports for m in listed),
            open=still_open,
        )
    return found
