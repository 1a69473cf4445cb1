"""Storing a scored report, exactly once per report id, in one short transaction.

This is the server's hot path, so it is written in SQLAlchemy Core on a
``Connection`` (cached compiled statements, no unit of work): one
``INSERT ... ON CONFLICT (report_id) DO NOTHING RETURNING id`` decides whether
the report is new, the check results follow in one multi-row insert, and the
caller commits. Two workers storing the same report id race on the unique
constraint; the loser sees no row returned and reads the winner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from submissions.dialect import Report
from submissions.reader import parse_created
from submissions.scoring import Score
from webhook.storage.models import Submission, SubmissionCheck, utcnow


class ReportIdTaken(Exception):
    """The report id is already stored for another student."""


@dataclass(frozen=True)
class Stored:
    id: int
    report_id: str
    score: int
    max_score: int
    flagged: bool
    created: bool  # False: the same report was stored before (an idempotent repeat)


# Built once: executing a prepared statement with parameters skips SQLAlchemy's
# per-call statement construction and cache-key work (half the cost otherwise).
_INSERTS_NEW = {
    name: module.insert(Submission)
    .on_conflict_do_nothing(index_elements=["report_id"])
    .returning(Submission.id)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
_EXISTING = select(
    Submission.id, Submission.student_pk, Submission.score, Submission.max_score,
    Submission.flagged,
).where(Submission.report_id == bindparam("report_id"))  # fmt: skip
_INSERT_CHECKS = insert(SubmissionCheck)


def _insert_new(dialect: str) -> Any:
    return _INSERTS_NEW["postgresql" if dialect == "postgresql" else "sqlite"]


def store_submission(
    connection: Connection,
    *,
    student_pk: int,
    course_id: int,
    report: Report,
    score: Score,
    raw_xml: str,
    via: str,
) -> Stored:
    """Store the report for the student, or return the one stored under its id before.

    Runs in the caller's transaction; the caller commits. Raises
    :class:`ReportIdTaken` when another student's submission has that id.
    """
    values = {
        "report_id": report.report_id,
        "student_pk": student_pk,
        "course_id": course_id,
        "received_at": utcnow(),
        "created": parse_created(report.created),
        "lab": report.lab,
        "score": score.score,
        "max_score": score.max_score,
        "checks_digest": report.checks_digest,
        "grader_version": report.grader_version,
        "engine_id": report.engine_id,
        "raw_xml": raw_xml,
        "flagged": score.flagged,
        "flag_reason": score.flag_reason[:1000],
        "via": via,
    }
    new_id = connection.execute(_insert_new(connection.dialect.name), values).scalar()
    if new_id is None:
        row = connection.execute(_EXISTING, {"report_id": report.report_id}).one()
        if row.student_pk != student_pk:
            raise ReportIdTaken(report.report_id)
        return Stored(row.id, report.report_id, row.score, row.max_score, row.flagged, False)
    if score.checks:
        connection.execute(
            _INSERT_CHECKS,
            [
                {
                    "submission_id": new_id,
                    "check_id": check.check_id,
                    "task": check.task,
                    "status": check.status,
                    "points": check.points,
                    "max_points": check.max_points,
                    "message": check.message,
                    "hint": check.hint,
                }
                for check in score.checks
            ],
        )
    return Stored(new_id, report.report_id, score.score, score.max_score, score.flagged, True)
