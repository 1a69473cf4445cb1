"""Flag rows, and each submission's summary of its flags.

A :class:`NewFlag` is written once per :func:`flag_key` (found again, it is the same row,
keeping its decision); :func:`refresh_standing` keeps a submission's ``flagged``,
``flag_reason`` and ``rejected`` in step with its flags, which pages and exports read.
Every function writes inside its caller's one write transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from submissions import integrity
from webhook.storage.models import Flag, Student, Submission

T = TypeVar("T")

#: Longest ``flag_reason`` kept on a submission (the column's size).
MAX_REASON = 1000
#: Values per ``IN (...)`` list, well under SQLite's limit of bound parameters.
CHUNK = 500


def in_chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` a :data:`CHUNK` at a time, for one ``IN (...)`` each."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


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
    group_id: int | None = None  # a shared_evidence flag's group (issue 20)

    @classmethod
    def of(
        cls,
        course_id: int,
        student_pk: int,
        submission_id: int,
        kind: str,
        reason: str,
        other_student_pk: int | None = None,
        group_id: int | None = None,
    ) -> NewFlag:
        """A report's flag of ``kind`` (about ``other_student_pk``), keyed by :func:`flag_key`."""
        key = flag_key(submission_id, kind, other_student_pk)
        return cls(
            key, course_id, student_pk, submission_id, kind, reason, other_student_pk, group_id
        )

    def row(self, now: datetime) -> dict[str, Any]:
        return {
            "key": self.key,
            "course_id": self.course_id,
            "student_pk": self.student_pk,
            "submission_id": self.submission_id,
            "kind": self.kind,
            "reason": self.reason[:MAX_REASON],
            "other_student_pk": self.other_student_pk,
            "group_id": self.group_id,
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


# --- Each submission's summary of its flags -------------------------------------------------

_Other = aliased(Student, name="other")
FLAGS_OF = (
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


def standings(rows: Iterable[Any]) -> dict[int, tuple[bool, str, bool]]:
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
    for chunk in in_chunks(ids):
        if connection.dialect.name == "postgresql":
            connection.execute(_LOCK_SUBMISSIONS, {"ids": chunk}).all()
        query = FLAGS_OF.where(Flag.submission_id.in_(chunk))
        standing = standings(connection.execute(query))
        connection.execute(
            _SET_STANDING,
            [
                {"pk": pk, "flagged": f, "reason": r, "rejected": x}
                for pk in chunk
                for f, r, x in [standing.get(pk, (False, "", False))]
            ],
        )
