"""Cross-checks between reports, and the instructor's decisions on the flags they raise.

What one report says about itself is :mod:`submissions.integrity`; what needs the
whole course is here. Flags are rows (:class:`~webhook.storage.models.Flag`), and
every function that writes them runs inside its caller's one write transaction (see
:mod:`webhook.ingest` for that rule):

- :func:`shared_with` and :func:`record_new`: at ingest, a new report's evidence
  identifiers (:func:`submissions.integrity.sharing_keys`) are looked up in the
  ``evidence_key`` index of its course. Every other student's report that names one of
  them is a pair: both reports are flagged ``shared_evidence``, the earlier one too.
- :func:`copied_body`: the very same bytes as a stored report, sent by another student
  of the course (refused with 409, since its report id is taken): both are flagged
  ``same_body``, the sender's flag without a report of its own.
- :func:`recheck_course`: the whole course again, after its dates change or to read
  reports stored before these checks existed: every sharing pair, ``before_opening``.
- :func:`decide`: an instructor accepts a flag (the report counts again) or rejects the
  report (it never counts); who, when and their note are kept.

:func:`refresh_standing` keeps each submission's summary (``flagged``: has open flags,
``flag_reason``, ``rejected``) in step with its flags; pages and exports read those.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from submissions import integrity
from submissions.integrity import Flag as FoundFlag
from submissions.reader import ReportRejected, read_report
from webhook.storage.models import Course, EvidenceKey, Flag, Student, Submission, utcnow

#: The first key of PostgreSQL's two-key advisory locks taken here ("grad" in ASCII).
ADVISORY_CLASS = 0x67726164
#: Longest ``flag_reason`` kept on a submission (the column's size).
MAX_REASON = 1000
#: Values per ``IN (...)`` list, well under SQLite's limit of bound parameters.
CHUNK = 500
DECISIONS = ("accept", "reject")


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


def course_lock(connection: Connection, course_id: int) -> None:
    """One course-wide operation (a re-check) at a time per course, on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": (ADVISORY_CLASS << 32) | course_id})


_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(cast(bindparam("key"), BigInteger)))
# The sorted subquery feeds the locks in order: two transactions never wait on each other
# crosswise.
_IDENTIFIER_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM"
    " (SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY 1) AS ordered"
)


# --- Flag rows ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewFlag:
    """A flag about to be written; ``key`` makes the same finding the same row."""

    key: str
    course_id: int
    student_pk: int
    submission_id: int | None
    kind: str
    reason: str
    other_student_pk: int | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        return {
            "key": self.key,
            "course_id": self.course_id,
            "student_pk": self.student_pk,
            "submission_id": self.submission_id,
            "kind": self.kind,
            "reason": self.reason[:MAX_REASON],
            "other_student_pk": self.other_student_pk,
            "status": "open",
            "decided_by": "",
            "note": "",
            "created_at": now,
        }


def flag_key(submission_id: int, kind: str, other_student_pk: int | None = None) -> str:
    """One flag per report, kind and other student: found again, it is the same row."""
    return f"{submission_id}:{kind}:{other_student_pk or ''}"


_INSERT_FLAGS = {
    name: module.insert(Flag).on_conflict_do_nothing(index_elements=["key"])
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


def insert_flags(connection: Connection, flags: Sequence[NewFlag], now: datetime) -> None:
    """Write ``flags``; one already there (by key) keeps its status and decision."""
    if flags:
        statement = _INSERT_FLAGS[
            "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
        ]
        connection.execute(statement, [flag.row(now) for flag in flags])


def summary(sentences: Iterable[str]) -> str:
    """A submission's ``flag_reason``: its open flags said in one line."""
    text = "; ".join(sentences)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


# --- At ingest ------------------------------------------------------------------------------

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


_INSERT_KEYS = insert(EvidenceKey)


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
            _INSERT_KEYS,
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


def copied_body(
    connection: Connection,
    *,
    stored: Any,  # the stored row: id, student_pk, course_id
    sender_pk: int,
    course_id: int,
    report_id: str,
    now: datetime,
) -> bool:
    """Flag both students when one sends another's stored report byte for byte.

    The copy is refused (its report id is taken) and so has no row: the sender's flag
    is about them, without a report. Only within one course; returns whether it flagged.
    """
    if stored.course_id != course_id:
        return False
    insert_flags(
        connection,
        [
            NewFlag(
                flag_key(stored.id, "same_body", sender_pk),
                course_id,
                stored.student_pk,
                stored.id,
                "same_body",
                "sent again by the other student, refused (its report id is this one's)",
                sender_pk,
            ),
            NewFlag(
                f"student{sender_pk}:same_body:{stored.id}",
                course_id,
                sender_pk,
                None,
                "same_body",
                f"a copy of the other student's report {report_id[:60]}, refused"
                " (its report id is theirs)",
                stored.student_pk,
            ),
        ],
        now,
    )
    refresh_standing(connection, {stored.id})
    return True


# --- Each submission's summary of its flags -------------------------------------------------

_Other = aliased(Student, name="other")
_FLAGS_OF = (
    select(Flag.submission_id, Flag.kind, Flag.reason, Flag.status, _Other.student_id)
    .outerjoin(_Other, _Other.id == Flag.other_student_pk)
    .order_by(Flag.id)
)
_SET_STANDING = (
    update(Submission)
    .where(Submission.id == bindparam("pk"))
    .values(
        flagged=bindparam("flagged"),
        flag_reason=bindparam("reason"),
        rejected=bindparam("rejected"),
    )
)


def _standings(rows: Iterable[Any]) -> dict[int, tuple[bool, str, bool]]:
    """Submission id → (has open flags, their summary, rejected), from flag rows."""
    sentences: dict[int, list[str]] = defaultdict(list)
    rejected: set[int] = set()
    seen: set[int] = set()
    for submission_id, kind, reason, status, other in rows:
        seen.add(submission_id)
        if status == "open":
            sentences[submission_id].append(integrity.describe(kind, reason, other))
        elif status == "rejected":
            rejected.add(submission_id)
    return {pk: (bool(sentences[pk]), summary(sentences[pk]), pk in rejected) for pk in seen}


_LOCK_SUBMISSIONS = (
    select(Submission.id)
    .where(Submission.id.in_(bindparam("ids", expanding=True)))
    .order_by(Submission.id)
    .with_for_update()
)


def refresh_standing(connection: Connection, submission_ids: Iterable[int]) -> None:
    """Bring these submissions' ``flagged``, ``flag_reason`` and ``rejected`` in step.

    Their rows are locked first (PostgreSQL), then their flags read: two transactions that
    flag one report take turns, and the second reads the first's flag.
    """
    ids = sorted(pk for pk in set(submission_ids) if pk is not None)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if connection.dialect.name == "postgresql":
            connection.execute(_LOCK_SUBMISSIONS, {"ids": chunk}).all()
        query = _FLAGS_OF.where(Flag.submission_id.in_(chunk))
        standing = _standings(connection.execute(query))
        connection.execute(
            _SET_STANDING,
            [
                {"pk": pk, "flagged": f, "reason": r, "rejected": x}
                for pk in chunk
                for f, r, x in [standing.get(pk, (False, "", False))]
            ],
        )


# --- A whole course -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recheck:
    """What :func:`recheck_course` did, for the command's one line."""

    reports: int
    reread: int
    open_flags: int
    seconds: float


def recheck_course(
    connection: Connection, course_id: int, *, now: datetime | None = None
) -> Recheck:
    """Run every cross-check of the course again; flags found before keep their decisions.

    Reports stored before these checks existed are read again first and checked like
    new ones. ``before_opening`` follows the course's current ``opens_at``: open ones
    that no longer hold are removed. Within the caller's write transaction.
    """
    started = time.perf_counter()
    now = now or utcnow()
    course_lock(connection, course_id)
    opens_at = connection.execute(
        select(Course.opens_at).where(Course.id == course_id)
    ).scalar_one()
    reread = _reread_unchecked(connection, course_id, opens_at, now)
    flags = _sharing_pairs(connection, course_id)
    reports = connection.execute(
        select(func.count()).select_from(Submission).where(Submission.course_id == course_id)
    ).scalar_one()
    early = set()
    if opens_at is not None:  # only the early ones are read (and their times converted)
        for pk, student_pk, created in connection.execute(
            select(Submission.id, Submission.student_pk, Submission.created).where(
                Submission.course_id == course_id, Submission.created < opens_at
            )
        ):
            found = integrity.before_opening(created, opens_at)
            if found is not None:
                early.add(pk)
                flags.append(
                    NewFlag(flag_key(pk, found.kind), course_id, student_pk, pk,
                            found.kind, found.reason)
                )  # fmt: skip
    stale = [
        pk
        for pk in connection.scalars(
            select(Flag.submission_id).where(
                Flag.course_id == course_id, Flag.kind == "before_opening", Flag.status == "open"
            )
        )
        if pk not in early
    ]
    for start in range(0, len(stale), CHUNK):
        connection.execute(
            delete(Flag).where(
                Flag.kind == "before_opening",
                Flag.status == "open",
                Flag.submission_id.in_(stale[start : start + CHUNK]),
            )
        )
    insert_flags(connection, flags, now)
    open_flags = _refresh_course(connection, course_id)
    return Recheck(int(reports), reread, open_flags, time.perf_counter() - started)


def _sharing_pairs(connection: Connection, course_id: int) -> list[NewFlag]:
    """Every (report, other student) pair of the course that names a common identifier."""
    shared = list(
        connection.scalars(
            select(EvidenceKey.value)
            .where(EvidenceKey.course_id == course_id)
            .group_by(EvidenceKey.value)
            .having(func.count(func.distinct(EvidenceKey.student_pk)) > 1)
        )
    )
    holders: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(shared), CHUNK):
        rows = connection.execute(
            select(EvidenceKey.value, EvidenceKey.student_pk, EvidenceKey.submission_id).where(
                EvidenceKey.course_id == course_id,
                EvidenceKey.value.in_(shared[start : start + CHUNK]),
            )
        )
        for value, student_pk, submission_id in rows:
            holders[value][student_pk].append(submission_id)
    pairs: dict[tuple[int, int, int], set[str]] = defaultdict(set)  # (sub, student, other)
    for value, students in holders.items():
        for student_pk, submissions in students.items():
            for other in students:
                if other != student_pk:
                    for submission_id in submissions:
                        pairs[(submission_id, student_pk, other)].add(value)
    return [
        NewFlag(
            flag_key(sub, "shared_evidence", other),
            course_id,
            student_pk,
            sub,
            "shared_evidence",
            integrity.describe_keys(values),
            other,
        )
        for (sub, student_pk, other), values in sorted(pairs.items())
    ]


def _reread_unchecked(
    connection: Connection, course_id: int, opens_at: datetime | None, now: datetime
) -> int:
    """Read again the reports stored before the integrity checks, and check them now."""
    rows = connection.execute(
        select(Submission.id, Submission.student_pk, Submission.received_at, Submission.raw_xml)
        .where(Submission.course_id == course_id, Submission.dialect_version == "")
        .order_by(Submission.id)
    ).all()
    flags: list[NewFlag] = []
    keys: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for pk, student_pk, received_at, raw_xml in rows:
        try:
            report = read_report(raw_xml.encode("utf-8"))
        except ReportRejected as exc:
            found: tuple[FoundFlag, ...] = (
                FoundFlag("bad_evidence", f"the stored report cannot be read again: {exc.reason}"),
            )
            updates.append({"pk": pk, "version": "?", "name": "", "engine": ""})
        else:
            found = integrity.check_report(report, received_at=received_at, opens_at=opens_at)
            keys += [
                {
                    "course_id": course_id,
                    "value": value,
                    "student_pk": student_pk,
                    "submission_id": pk,
                }
                for value in sorted(integrity.sharing_keys(report))
            ]
            updates.append(
                {
                    "pk": pk,
                    "version": report.dialect_version,
                    "name": report.engine_name[:200],
                    "engine": report.engine_version[:100],
                }
            )
        flags += [
            NewFlag(flag_key(pk, f.kind), course_id, student_pk, pk, f.kind, f.reason)
            for f in found
        ]
    for start in range(0, len(keys), 5000):
        connection.execute(_INSERT_KEYS, keys[start : start + 5000])
    if updates:
        connection.execute(
            update(Submission)
            .where(Submission.id == bindparam("pk"))
            .values(
                dialect_version=bindparam("version"),
                engine_name=bindparam("name"),
                engine_version=bindparam("engine"),
            ),
            updates,
        )
    insert_flags(connection, flags, now)
    return len(rows)


def _refresh_course(connection: Connection, course_id: int) -> int:
    """Every submission's summary of the course, written where it changed; open flags.

    Only the reports that have flags, or say they have, are read: in a big class most
    have neither.
    """
    standing = _standings(connection.execute(_FLAGS_OF.where(Flag.course_id == course_id)))
    columns = (Submission.id, Submission.flagged, Submission.flag_reason, Submission.rejected)
    current = {
        row.id: row
        for row in connection.execute(
            select(*columns).where(
                Submission.course_id == course_id, Submission.flagged | Submission.rejected
            )
        )
    }
    unread = sorted(set(standing) - set(current))
    for start in range(0, len(unread), CHUNK):
        query = select(*columns).where(Submission.id.in_(unread[start : start + CHUNK]))
        current.update((row.id, row) for row in connection.execute(query))
    changed = [
        pk
        for pk, flagged, reason, rejected in current.values()
        if standing.get(pk, (False, "", False)) != (bool(flagged), reason, bool(rejected))
    ]
    refresh_standing(connection, changed)  # locked and read again: ingest runs alongside
    return int(
        connection.execute(
            select(func.count())
            .select_from(Flag)
            .where(Flag.course_id == course_id, Flag.status == "open")
        ).scalar_one()
    )


# --- The instructor decides -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision made: on which flag, and which report it concerns (if it has one)."""

    flag_id: int
    submission_id: int | None
    status: str


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
        select(Flag.submission_id).where(Flag.id == flag_id, Flag.course_id == course_id)
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
    return Decided(flag_id, submission_id, status)
