"""Cross-checks between reports, and the instructor's decisions on the flags they raise.

What one report says about itself is :mod:`submissions.integrity`; what needs the
whole course is this package, one module per job. Flags are rows
(:class:`~webhook.storage.models.Flag`), and every function that writes them runs inside
its caller's one write transaction (see :mod:`webhook.ingest` for that rule):

- :mod:`~webhook.crosscheck.shared`: at ingest, a new report's evidence identifiers
  (:func:`submissions.integrity.sharing_keys`) are looked up in the ``evidence_key``
  index of its course. A report naming one that another student showed first is flagged
  ``shared_evidence``, naming that student; the first student's reports keep counting.
  An identifier two students named is a flag group (:mod:`~webhook.crosscheck.groups`).
- :mod:`~webhook.crosscheck.budget`: which of a new report's identifiers are stored: a
  student's new ones only within their budget (a flood of new ones must not grow the index).
- :mod:`~webhook.crosscheck.copies`: the very same bytes as a stored report, sent by
  another student of the course: stored as theirs and flagged ``same_body``, naming the
  student who sent it first, whose report keeps counting.
- here, :func:`recheck_course`: the whole course again, after its dates change or to
  read reports stored before these checks existed: every later sharer, ``before_opening``.
- :mod:`~webhook.crosscheck.decisions`: an instructor accepts a flag (the report counts
  again) or rejects the report (it never counts); who, when and their note are kept.

:mod:`~webhook.crosscheck.flags` writes the flag rows, and its
:func:`~webhook.crosscheck.flags.refresh_standing` keeps each submission's summary
(``flagged``: has open flags, ``flag_reason``, ``rejected``) in step with its flags;
pages and exports read those.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, cast, delete, func, select, update

from submissions import integrity
from submissions.integrity import Flag as FoundFlag
from submissions.reader import ReportRejected, read_report
from webhook.crosscheck import groups
from webhook.crosscheck.flags import (
    FLAGS_OF,
    NewFlag,
    flag_key,
    in_chunks,
    insert_flags,
    refresh_standing,
    standings,
)
from webhook.crosscheck.shared import INSERT_KEYS
from webhook.storage.models import Course, EvidenceKey, Flag, Submission, utcnow

#: The first key of PostgreSQL's two-key advisory locks taken here ("grad" in ASCII).
ADVISORY_CLASS = 0x67726164


def course_lock(connection: Connection, course_id: int) -> None:
    """One course-wide operation (a re-check) at a time per course, on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": (ADVISORY_CLASS << 32) | course_id})


_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(cast(bindparam("key"), BigInteger)))

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
    new ones. ``before_opening`` follows the course's current ``opens_at``, and
    ``shared_evidence`` who showed each identifier first: open ones that no longer hold
    are removed (such as the first student's, flagged before that rule). Within the
    caller's write transaction.
    """
    started = time.perf_counter()
    now = now or utcnow()
    course_lock(connection, course_id)
    opens_at = connection.execute(
        select(Course.opens_at).where(Course.id == course_id)
    ).scalar_one()
    reread = _reread_unchecked(connection, course_id, opens_at, now)
    flags = _sharing_pairs(connection, course_id, now)
    reports = connection.execute(
        select(func.count()).select_from(Submission).where(Submission.course_id == course_id)
    ).scalar_one()
    if opens_at is not None:  # only the early ones are read (and their times converted)
        for pk, student_pk, created in connection.execute(
            select(Submission.id, Submission.student_pk, Submission.created).where(
                Submission.course_id == course_id, Submission.created < opens_at
            )
        ):
            found = integrity.before_opening(created, opens_at)
            if found is not None:
                flags.append(
                    NewFlag(flag_key(pk, found.kind), course_id, student_pk, pk,
                            found.kind, found.reason)
                )  # fmt: skip
    for kind in ("before_opening", "shared_evidence"):
        _drop_stale(connection, course_id, kind, {f.key for f in flags if f.kind == kind})
    insert_flags(connection, flags, now)
    _file_by_group(connection, course_id, flags)
    open_flags = _refresh_course(connection, course_id)
    return Recheck(int(reports), reread, open_flags, time.perf_counter() - started)


def _sharing_pairs(connection: Connection, course_id: int, now: datetime) -> list[NewFlag]:
    """Every later report of the course naming an identifier another student showed first,
    filed under the identifier's group (formed here, or its first student set again).

    First as at ingest (:class:`webhook.crosscheck.shared.Holder`): a verified report before
    any self-reported one, then the earliest received. The report is flagged naming the
    student who showed it first; that student's reports are not flagged for it.
    """
    shared = list(
        connection.scalars(
            select(EvidenceKey.value)
            .where(EvidenceKey.course_id == course_id)
            .group_by(EvidenceKey.value)
            .having(func.count(func.distinct(EvidenceKey.student_pk)) > 1)
        )
    )
    holders: dict[str, list[tuple[bool, int, int]]] = defaultdict(list)
    for chunk in in_chunks(shared):
        rows = connection.execute(
            select(
                EvidenceKey.value,
                Submission.source,
                EvidenceKey.submission_id,
                EvidenceKey.student_pk,
            )
            .join(Submission, Submission.id == EvidenceKey.submission_id)
            .where(EvidenceKey.course_id == course_id, EvidenceKey.value.in_(chunk))
        )
        for value, source, submission_id, student_pk in rows:
            holders[value].append((source != "verified", submission_id, student_pk))
    firsts = {value: min(reports) for value, reports in holders.items()}
    ids: dict[str, int] = {}
    for chunk in in_chunks(sorted(firsts)):
        heads = {value: (firsts[value][2], not firsts[value][0]) for value in chunk}
        ids |= groups.file_groups(connection, course_id, heads, now)
    pairs: dict[tuple[int, int, int], set[str]] = defaultdict(set)  # (sub, student, first)
    for value, reports in holders.items():
        first = firsts[value][2]
        for _, submission_id, student_pk in reports:
            if student_pk != first:
                pairs[(submission_id, student_pk, first)].add(value)
    return [
        NewFlag.of(
            course_id,
            student_pk,
            sub,
            "shared_evidence",
            integrity.describe_keys(values),
            first,
            ids[groups.leading(values)],
        )
        for (sub, student_pk, first), values in sorted(pairs.items())
    ]


def _file_by_group(connection: Connection, course_id: int, flags: list[NewFlag]) -> None:
    """Flags found again keep their rows and decisions; each is filed under its group now
    (those of a database upgraded from before groups had none)."""
    wanted = {f.key: f.group_id for f in flags if f.kind == "shared_evidence"}
    moved = [
        {"pk": pk, "group": wanted[key]}
        for pk, key, group_id in connection.execute(
            select(Flag.id, Flag.key, Flag.group_id).where(
                Flag.course_id == course_id, Flag.kind == "shared_evidence"
            )
        )
        if key in wanted and wanted[key] != group_id
    ]
    if moved:
        connection.execute(
            update(Flag).where(Flag.id == bindparam("pk")).values(group_id=bindparam("group")),
            moved,
        )


def _drop_stale(connection: Connection, course_id: int, kind: str, found: set[str]) -> None:
    """Remove the course's open flags of ``kind`` that this re-check no longer finds (by key);
    decided ones stay, with their decision."""
    stale = [
        pk
        for pk, key in connection.execute(
            select(Flag.id, Flag.key).where(
                Flag.course_id == course_id, Flag.kind == kind, Flag.status == "open"
            )
        )
        if key not in found
    ]
    for chunk in in_chunks(stale):
        connection.execute(delete(Flag).where(Flag.id.in_(chunk)))


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
        connection.execute(INSERT_KEYS, keys[start : start + 5000])
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
    standing = standings(connection.execute(FLAGS_OF.where(Flag.course_id == course_id)))
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
    for chunk in in_chunks(unread):
        query = select(*columns).where(Submission.id.in_(chunk))
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
