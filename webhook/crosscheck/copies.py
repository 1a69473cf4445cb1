"""At ingest: the very same bytes as a stored report, sent by another student.

The copy is refused (409, its report id is taken) and so has no row; both students
are flagged ``same_body``, the sender's flag without a report of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from webhook.crosscheck.flags import NewFlag, flag_key, insert_flags, refresh_standing


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
