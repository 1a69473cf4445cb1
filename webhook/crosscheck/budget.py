"""How many evidence identifiers one student may add to the cross-check's index.

Every report stores a row in ``evidence_key`` for each identifier it names (at most
:data:`webhook.ingest.body.MAX_SHARING_KEYS`): the cross-check needs every report naming
an identifier, so that a verified report taking it over, or a re-check, flags each of them.
An honest student names the same few identifiers report after report (their engine, their
containers and images), and meets a new one only when they recreate a container. A flood
of reports each naming 32 *new* identifiers grew the database by 157.5 MB a day for one
token at the default rate limit (``bench/student_storage --day``).

So a student's *distinct* identifiers are budgeted, not their rows: one they named before
is stored for every report as always; a new one is stored while the student has named
fewer than :data:`MAX_STUDENT_IDENTIFIERS` (a count kept on the student's row). Past that,
a new identifier is still looked up (the report is flagged if another student showed it
first) but not stored: a later copy of it by another student is not found. The report is
flagged ``bad_evidence`` saying so, for the instructor (unless it is flagged
``bad_evidence`` already, such as for naming over 32: one reason a report, as each is kept).
Verified reports are not budgeted: an instructor sent them.

Why a budget of distinct identifiers, not "the latest N reports' identifiers" (as the
check rows are kept): the cross-check's rules need the old rows. Who showed an identifier
first is its earliest row, and a verified report that takes one over flags each of the
other student's reports naming it; without their rows, an older report would escape the
flag and count for the grade in place of the flagged ones.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Connection, String, bindparam, select, union_all, update

from webhook.crosscheck.shared import Holder
from webhook.storage.models import EvidenceKey, Student

#: The most distinct evidence identifiers a student's self-reported reports may store. An
#: honest student names a few dozen in a course (a new container id each time they recreate
#: one); past this, their new identifiers are not stored (about 40 bytes each per report).
MAX_STUDENT_IDENTIFIERS = 1000


@dataclass(frozen=True, slots=True)
class Budgeted:
    """The identifiers a new report stores, and how many new ones it could not."""

    keys: frozenset[str]
    left_out: int


@functools.cache
def _named_before(values: int) -> CompoundSelect[tuple[str]]:
    """Which of ``values`` identifiers the student named before: one primary-key probe each
    (course, value, student), as :func:`webhook.crosscheck.shared._first_shown` does."""
    return union_all(
        *(
            select(EvidenceKey.value)
            .where(
                EvidenceKey.course_id == bindparam("course_id"),
                EvidenceKey.value == bindparam(f"v{n}", type_=String()),
                EvidenceKey.student_pk == bindparam("student_pk"),
            )
            .limit(1)
            .subquery()
            .select()
            for n in range(values)
        )
    )


_COUNT = select(Student.identifiers).where(Student.id == bindparam("student_pk"))
_ADD = (
    update(Student)
    .where(Student.id == bindparam("student_pk"))
    .values(identifiers=Student.identifiers + bindparam("added"))
)


def budgeted(
    connection: Connection,
    *,
    course_id: int,
    student_pk: int,
    keys: frozenset[str],
    first: Mapping[str, Holder],
    verified: bool,
) -> Budgeted:
    """The report's identifiers within the student's budget, counting the new ones in.

    ``first`` is :func:`webhook.crosscheck.shared.first_shown`'s answer: an identifier the
    student showed first is theirs already, one nobody showed is new; only those another
    student showed first are looked up. Within ingest's write transaction.
    """
    if verified or not keys:
        return Budgeted(keys, 0)
    others = sorted(v for v in keys if v in first and first[v].student_pk != student_pk)
    known = {v for v in keys if v in first and first[v].student_pk == student_pk}
    if others:
        params: dict[str, Any] = {f"v{n}": value for n, value in enumerate(others)}
        params |= {"course_id": course_id, "student_pk": student_pk}
        known |= set(connection.scalars(_named_before(len(others)), params))
    new = sorted(keys - known, key=lambda key: (not key.startswith("engine:"), key))
    if not new:
        return Budgeted(keys, 0)
    count = connection.execute(_COUNT, {"student_pk": student_pk}).scalar_one()
    room = max(0, MAX_STUDENT_IDENTIFIERS - count)
    added = new[:room]
    if added:
        connection.execute(_ADD, {"student_pk": student_pk, "added": len(added)})
    return Budgeted(frozenset(known) | frozenset(added), len(new) - len(added))


def over_budget(left_out: int) -> str:
    """The ``bad_evidence`` reason of a report whose new identifiers were not all stored
    (short: it is kept with each such report)."""
    return f"{left_out} new identifiers not kept: over the student's {MAX_STUDENT_IDENTIFIERS}"
