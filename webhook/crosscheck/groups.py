"""Flag groups (issue 20, item 6): an identifier several students' reports name is one group.

A group (:class:`~webhook.storage.models.FlagGroup`) holds who showed its identifier first
(item 4's rule: a verified report before every self-reported one, then the earliest), so
that ingest reads one row per identifier (:func:`groups_of`), never the group's reports,
and files each later report's ``shared_evidence`` flag under it; the flags page lists a
group once, and an instructor decides it at once. :func:`file_groups` forms groups and
moves their first student, inside its caller's one write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from webhook.storage.models import FlagGroup, Student


@dataclass(frozen=True, slots=True)
class Head:
    """A group as ingest reads it: its id and who showed its identifier first."""

    id: int
    first_pk: int
    first_roster_id: str
    first_verified: bool


_GROUPS = (
    select(
        FlagGroup.value,
        FlagGroup.id,
        FlagGroup.first_student_pk,
        Student.student_id,
        FlagGroup.first_verified,
    )
    .join(Student, Student.id == FlagGroup.first_student_pk)
    .where(
        FlagGroup.course_id == bindparam("course_id"),
        FlagGroup.value.in_(bindparam("values", expanding=True)),
    )
)


def groups_of(connection: Connection, course_id: int, values: Iterable[str]) -> dict[str, Head]:
    """Identifier → its group, for those of ``values`` that have one: one probe of the
    ``(course, value)`` unique index each, however many students the group holds."""
    ordered = sorted(values)
    if not ordered:
        return {}
    rows = connection.execute(_GROUPS, {"course_id": course_id, "values": ordered})
    return {
        value: Head(gid, pk, roster_id, bool(verified))
        for value, gid, pk, roster_id, verified in rows
    }


def _upsert(module: Any) -> Any:
    statement = module.insert(FlagGroup)
    return statement.on_conflict_do_update(
        index_elements=["course_id", "value"],
        set_={
            "first_student_pk": statement.excluded.first_student_pk,
            "first_verified": statement.excluded.first_verified,
        },
    )


_UPSERT = {
    name: _upsert(module) for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
_IDS = select(FlagGroup.value, FlagGroup.id).where(
    FlagGroup.course_id == bindparam("course_id"),
    FlagGroup.value.in_(bindparam("values", expanding=True)),
)


def file_groups(
    connection: Connection,
    course_id: int,
    firsts: Mapping[str, tuple[int, bool]],
    now: datetime,
) -> dict[str, int]:
    """Write each identifier's group with its first student, ``(student pk, verified)``:
    formed if new, its first replaced if there; every one's id by identifier."""
    if not firsts:
        return {}
    statement = _UPSERT["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    connection.execute(
        statement,
        [
            {"course_id": course_id, "value": value, "first_student_pk": pk,
             "first_verified": verified, "created_at": now}
            for value, (pk, verified) in sorted(firsts.items())
        ],
    )  # fmt: skip
    rows = connection.execute(_IDS, {"course_id": course_id, "values": sorted(firsts)})
    return {value: gid for value, gid in rows}


def leading(values: Iterable[str]) -> str:
    """The identifier a flag naming several is filed under: the engine first, as reasons
    name them, then the smallest."""
    return min(values, key=lambda key: (not key.startswith("engine:"), key))
