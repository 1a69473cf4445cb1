"""At ingest: a new report's evidence against the rest of its course.

Its evidence identifiers (:func:`submissions.integrity.sharing_keys`) are looked up in
the ``evidence_key`` index of its course (:func:`first_shown`, after
:func:`evidence_locks`): the student who showed an identifier first keeps counting, and
a later report of another student naming it is flagged ``shared_evidence``, naming the
first (:func:`pairs_of_new`); the first student's report is not flagged, so that reusing
a classmate's engine id cannot empty the classmate's grade. A verified report goes
before every self-reported one: when it names what another student's self-reported
reports showed first, those reports are the later ones and are flagged
(:func:`taken_over`, :func:`taken_reports`). :func:`record_new` writes it all.

An identifier two students named is a flag group (issue 20, item 6,
:mod:`webhook.crosscheck.groups`) holding who showed it first: a later report reads that
one row, never the group's reports, and its flag is filed under the group; so N students
on one engine cost N reports' flags and a flat cost per report.
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
    case,
    func,
    insert,
    select,
    text,
    union_all,
)

from submissions import integrity
from submissions.integrity import Flag as FoundFlag
from webhook.crosscheck import groups
from webhook.crosscheck.flags import NewFlag, insert_flags, refresh_standing
from webhook.storage.models import EvidenceKey, Student, Submission


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
def _first_shown(values: int) -> CompoundSelect[str, int, int]:
    """For each of ``values`` identifiers, the course's first report naming it, and its first
    verified one: built once per count (plain parameters are compiled once and cached,
    where an expanding IN list is rewritten on every call).

    One branch per identifier, each an equality on the two leading columns of the primary
    key: PostgreSQL, planning an ``IN`` list against a table it has not analysed yet,
    keeps the list as a filter over the whole course's index range instead of one probe
    per identifier.
    """
    verified = case((Submission.source == "verified", EvidenceKey.submission_id))
    return union_all(
        *(
            select(
                EvidenceKey.value,
                func.min(EvidenceKey.submission_id),
                func.min(verified),
            )
            .join(Submission, Submission.id == EvidenceKey.submission_id)
            .where(
                EvidenceKey.course_id == bindparam("course_id"),
                EvidenceKey.value == bindparam(f"v{n}", type_=String()),
            )
            .group_by(EvidenceKey.value)
            for n in range(values)
        )
    )


_HOLDERS = (
    select(Submission.id, Submission.student_pk, Student.student_id, Submission.source)
    .join(Student, Student.id == Submission.student_pk)
    .where(Submission.id.in_(bindparam("ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class Holder:
    """The student whose report showed an identifier first: verified reports go before
    self-reported ones (an instructor saw that machine), then the earliest received (the
    lowest id). ``group_id``: the identifier's flag group, once two students named it."""

    student_pk: int
    roster_id: str
    verified: bool
    group_id: int | None = None


def first_shown(connection: Connection, course_id: int, keys: frozenset[str]) -> dict[str, Holder]:
    """Identifier → who showed it first in the course, for those already named.

    An identifier of a flag group is read off its group (one row, however many students
    share it); one that no group holds yet has been named by one student only, whose
    reports naming it are read. Call it after :func:`evidence_locks`, in the transaction
    that then stores the report.
    """
    if not keys:
        return {}
    found = {
        value: Holder(head.first_pk, head.first_roster_id, head.first_verified, head.id)
        for value, head in groups.groups_of(connection, course_id, keys).items()
    }
    first: dict[str, int] = {}
    ordered = sorted(keys - set(found))
    for start in range(0, len(ordered), LOOKUP_VALUES):
        chunk = ordered[start : start + LOOKUP_VALUES]
        params: dict[str, Any] = {f"v{n}": value for n, value in enumerate(chunk)}
        params["course_id"] = course_id
        for value, earliest, earliest_verified in connection.execute(
            _first_shown(len(chunk)), params
        ):
            first[value] = earliest_verified if earliest_verified is not None else earliest
    if first:
        holders = {
            pk: Holder(student_pk, roster_id, source == "verified")
            for pk, student_pk, roster_id, source in connection.execute(
                _HOLDERS, {"ids": sorted(set(first.values()))}
            )
        }
        found |= {value: holders[pk] for value, pk in first.items()}
    return found


@dataclass(frozen=True, slots=True)
class PairFlag:
    """A flag of the new report that names another student (for its summary); ``values``:
    the identifiers it is about, whose group it is filed under."""

    other_student_pk: int
    other_roster_id: str
    reason: str
    values: frozenset[str] = frozenset()


def pairs_of_new(first: dict[str, Holder], student_pk: int, *, verified: bool) -> list[PairFlag]:
    """The new report's ``shared_evidence`` flags: one per other student who showed some of
    its identifiers first, with what they showed. None for identifiers the student showed
    first, nor, for a verified report, for those only self-reported so far."""
    by_student: dict[int, tuple[str, set[str]]] = {}
    for value, holder in first.items():
        if holder.student_pk == student_pk or (verified and not holder.verified):
            continue
        by_student.setdefault(holder.student_pk, (holder.roster_id, set()))[1].add(value)
    return [
        PairFlag(pk, roster_id, integrity.describe_keys(values), frozenset(values))
        for pk, (roster_id, values) in sorted(by_student.items(), key=lambda item: item[1][0])
    ]


def taken_over(first: dict[str, Holder], student_pk: int, *, verified: bool) -> dict[str, int]:
    """The identifiers a new verified report shows first in place of another student's
    self-reported report, each with that student: their reports naming it become later
    ones, and are flagged."""
    if not verified:
        return {}
    return {
        value: holder.student_pk
        for value, holder in first.items()
        if holder.student_pk != student_pk and not holder.verified
    }


def new_firsts(
    first: dict[str, Holder], student_pk: int, *, verified: bool
) -> dict[str, tuple[int, bool]]:
    """The groups the new report forms or changes, each with its first student after it:
    an identifier another student showed first forms one (if none yet); a verified report
    becomes the first of what was only self-reported (its own student's too)."""
    changed: dict[str, tuple[int, bool]] = {}
    for value, holder in first.items():
        if verified and not holder.verified:
            if holder.student_pk != student_pk or holder.group_id is not None:
                changed[value] = (student_pk, True)
        elif holder.student_pk != student_pk and holder.group_id is None:
            changed[value] = (holder.student_pk, holder.verified)
    return changed


_PREVIOUS = select(EvidenceKey.submission_id).where(
    EvidenceKey.course_id == bindparam("course_id"),
    EvidenceKey.value == bindparam("value"),
    EvidenceKey.student_pk == bindparam("student_pk"),
)


@dataclass(frozen=True, slots=True)
class Match:
    """Another student's report that names some of the same identifiers."""

    submission_id: int
    student_pk: int
    values: frozenset[str]


def taken_reports(connection: Connection, course_id: int, taken: dict[str, int]) -> list[Match]:
    """The reports of the student who showed each ``taken`` identifier first until now: the
    group's other reports are flagged already, so only that student's are read (one index
    range each)."""
    found: dict[int, tuple[int, set[str]]] = {}
    for value, student_pk in sorted(taken.items()):
        params = {"course_id": course_id, "value": value, "student_pk": student_pk}
        for submission_id in connection.scalars(_PREVIOUS, params):
            found.setdefault(submission_id, (student_pk, set()))[1].add(value)
    return [
        Match(submission_id, other_pk, frozenset(values))
        for submission_id, (other_pk, values) in sorted(found.items())
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
    same_body: Sequence[PairFlag] = (),
    first: dict[str, Holder] | None = None,
    firsts: dict[str, tuple[int, bool]] | None = None,
    now: datetime,
) -> None:
    """A new report's evidence keys and flags, and the flags it gives earlier reports; the
    groups it forms or changes (``firsts``, from :func:`new_firsts`), each flag naming
    another student filed under the group of what it is about."""
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

    ids = {value: h.group_id for value, h in (first or {}).items() if h.group_id is not None}
    ids |= groups.file_groups(connection, course_id, firsts or {}, now)

    def group(values: frozenset[str]) -> int | None:
        return ids.get(groups.leading(values)) if values else None

    def ours(kind: str, reason: str, other: int | None = None, gid: int | None = None) -> NewFlag:
        return NewFlag.of(course_id, student_pk, submission_id, kind, reason, other, gid)

    flags = (
        [ours(f.kind, f.reason) for f in own]
        + [ours("shared_evidence", p.reason, p.other_student_pk, group(p.values)) for p in pairs]
        + [ours("same_body", p.reason, p.other_student_pk) for p in same_body]
        + [
            NewFlag.of(
                course_id,
                m.student_pk,
                m.submission_id,
                "shared_evidence",
                integrity.describe_keys(m.values),
                student_pk,
                group(m.values),
            )
            for m in matches
        ]
    )
    insert_flags(connection, flags, now)
    if matches:
        refresh_standing(connection, {m.submission_id for m in matches})
