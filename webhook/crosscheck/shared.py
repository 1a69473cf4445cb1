"""At ingest: a new report's evidence against the rest of its course.

Its evidence identifiers (:func:`submissions.integrity.sharing_keys`) are looked up in
the ``evidence_key`` index of its course (:func:`shared_with`, after
:func:`evidence_locks`); every other student's report that names one of them is a pair,
and :func:`record_new` flags both reports ``shared_evidence``, the earlier one too.
Called by :mod:`webhook.ingest.store`, inside ingest's one write transaction.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    String,
    bindparam,
    insert,
    select,
    text,
    union_all,
)

from submissions import integrity
from submissions.integrity import Flag as FoundFlag
from webhook.crosscheck.flags import NewFlag, flag_key, insert_flags, refresh_standing
from webhook.storage.models import EvidenceKey, Student


def evidence_locks(connection: Connection, course_id: int, keys: Iterable[str]) -> None:
    """Hold back, until this transaction ends, any other that names one of these identifiers.

    Two copies arriving at once must catch each other: the one that looks second must find
    the first's evidence keys committed. SQLite writers already go one at a time
    (:func:`webhook.storage.db.write_lock`). On PostgreSQL, where they run side by side,
    each (course, identifier) gets a transaction-scoped advisory lock, taken in one fixed
    order (no deadlock): only reports that share an identifier wait for each other (in
    practice one student's own reports, which share their engine), never the whole course.
    """
    if connection.dialect.name == "postgresql" and keys:
        ids = sorted({_lock_id(course_id, key) for key in keys})
        connection.execute(_IDENTIFIER_LOCKS, {"ids": ids})


def _lock_id(course_id: int, key: str) -> int:
    """A signed 64-bit advisory lock id for (course, identifier), the same in every process."""
    digest = hashlib.blake2b(f"{course_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The sorted subquery feeds the locks in order: two transactions never wait on each other
# crosswise.
_IDENTIFIER_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM"
    " (SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY 1) AS ordered"
)


# --- The lookup -----------------------------------------------------------------------------

#: Values per lookup statement: a report names about ten; more go in several lookups.
LOOKUP_VALUES = 32


@functools.cache
def _shared_with(values: int) -> CompoundSelect[int, int, str]:
    """The lookup of ``values`` identifiers, built once per count: plain parameters are
    compiled once and cached, where an expanding IN list is rewritten on every call (three
    times the cost of the query itself on SQLite).

    One branch per identifier, each an equality on the two leading columns of the primary
    key: PostgreSQL, planning an ``IN`` list against a table it has not analysed yet,
    keeps the list as a filter over the whole course's index range (5 ms a report at a
    few thousand reports, growing) instead of one probe per identifier.
    """
    return union_all(
        *(
            select(EvidenceKey.submission_id, EvidenceKey.student_pk, EvidenceKey.value).where(
                EvidenceKey.course_id == bindparam("course_id"),
                EvidenceKey.value == bindparam(f"v{n}", type_=String()),
                EvidenceKey.student_pk != bindparam("student_pk"),
            )
            for n in range(values)
        )
    )


_ROSTER_IDS = select(Student.id, Student.student_id).where(
    Student.id.in_(bindparam("pks", expanding=True))
)


@dataclass(frozen=True, slots=True)
class Match:
    """Another student's report that names some of the same identifiers."""

    submission_id: int
    student_pk: int
    roster_id: str
    values: frozenset[str]


def shared_with(
    connection: Connection, course_id: int, student_pk: int, keys: frozenset[str]
) -> list[Match]:
    """Other students' reports in the course naming any of ``keys``: one index range each.

    Call it after :func:`evidence_locks`, in the transaction that then stores the report.
    """
    if not keys:
        return []
    found: dict[int, tuple[int, set[str]]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), LOOKUP_VALUES):
        chunk = ordered[start : start + LOOKUP_VALUES]
        params: dict[str, Any] = {f"v{n}": value for n, value in enumerate(chunk)}
        params |= {"course_id": course_id, "student_pk": student_pk}
        for submission_id, other_pk, value in connection.execute(_shared_with(len(chunk)), params):
            found.setdefault(submission_id, (other_pk, set()))[1].add(value)
    if not found:  # the usual case: nobody else's
        return []
    others = sorted({other_pk for other_pk, _ in found.values()})
    roster: dict[int, str] = {
        pk: sid for pk, sid in connection.execute(_ROSTER_IDS, {"pks": others})
    }
    return [
        Match(submission_id, other_pk, roster[other_pk], frozenset(values))
        for submission_id, (other_pk, values) in sorted(found.items())
    ]


@dataclass(frozen=True, slots=True)
class PairFlag:
    """A flag of the new report that names another student (for its summary)."""

    other_student_pk: int
    other_roster_id: str
    reason: str


def pairs_of_new(matches: Sequence[Match]) -> list[PairFlag]:
    """The new report's ``shared_evidence`` flags: one per other student, with what they share."""
    by_student: dict[int, tuple[str, set[str]]] = {}
    for match in matches:
        by_student.setdefault(match.student_pk, (match.roster_id, set()))[1].update(match.values)
    return [
        PairFlag(pk, roster_id, integrity.describe_keys(values))
        for pk, (roster_id, values) in sorted(by_student.items(), key=lambda item: item[1][0])
    ]


INSERT_KEYS = insert(EvidenceKey)


def record_new(
    connection: Connection,
    *,
    submission_id: int,
    course_id: int,
    student_pk: int,
    keys: frozenset[str],
    own: Sequence[FoundFlag],
    pairs: Sequence[PairFlag],
    matches: Sequence[Match],
    now: datetime,
) -> None:
    """A new report's evidence keys and flags, and the flags it gives earlier reports."""
    if keys:
        connection.execute(
            INSERT_KEYS,
            [
                {
                    "course_id": course_id,
                    "value": value,
                    "student_pk": student_pk,
                    "submission_id": submission_id,
                }
                for value in sorted(keys)
            ],
        )
    flags = (
        [
            NewFlag(
                flag_key(submission_id, f.kind),
                course_id,
                student_pk,
                submission_id,
                f.kind,
                f.reason,
            )
            for f in own
        ]
        + [
            NewFlag(
                flag_key(submission_id, "shared_evidence", p.other_student_pk),
                course_id,
                student_pk,
                submission_id,
                "shared_evidence",
                p.reason,
                p.other_student_pk,
            )
            for p in pairs
        ]
        + [
            NewFlag(
                flag_key(m.submission_id, "shared_evidence", student_pk),
                course_id,
                m.student_pk,
                m.submission_id,
                "shared_evidence",
                integrity.describe_keys(m.values),
                student_pk,
            )
            for m in matches
        ]
    )
    insert_flags(connection, flags, now)
    if matches:
        refresh_standing(connection, {m.submission_id for m in matches})
