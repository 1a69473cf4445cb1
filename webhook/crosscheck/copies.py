"""At ingest: the very same bytes as another student's stored report.

Report ids are unique per student (issue 20): a student who sends a classmate's report,
byte for byte, gets it stored as their own, and it is flagged ``same_body`` naming the
student who sent it first (:func:`first_copy`), whose report keeps counting. Sending
another's report id first therefore never makes the owner's report a refusal; an id
alone (other bytes) is no copy, and the evidence cross-check
(:mod:`~webhook.crosscheck.shared`) judges what the reports name.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, case, select

from webhook.crosscheck.shared import Holder
from webhook.storage.models import Student, Submission

#: Other students' reports of the course with this id and these bytes, the first first:
#: verified before self-reported, then the earliest received (as for shared evidence).
_COPIES = (
    select(Submission.id, Submission.student_pk, Student.student_id, Submission.source)
    .join(Student, Student.id == Submission.student_pk)
    .where(
        Submission.course_id == bindparam("course_id"),
        Submission.report_id == bindparam("report_id"),
        Submission.body_sha256 == bindparam("body_sha256"),
        Submission.student_pk != bindparam("student_pk"),
    )
    .order_by(case((Submission.source == "verified", 0), else_=1), Submission.id)
    .limit(1)
)


def first_copy(
    connection: Connection,
    *,
    course_id: int,
    student_pk: int,
    report_id: str,
    body_sha256: str,
    verified: bool,
) -> Holder | None:
    """The first report of another student of the course with the very same bytes, if any.

    A verified report is a copy only of an earlier verified one: a student's self-reported
    report never holds a verified one back.
    """
    row = connection.execute(
        _COPIES,
        {
            "course_id": course_id,
            "report_id": report_id,
            "body_sha256": body_sha256,
            "student_pk": student_pk,
        },
    ).first()
    if row is None or (verified and row.source != "verified"):
        return None
    return Holder(row.student_pk, row.student_id, row.source == "verified")
