"""Storing a scored report, exactly once per report id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from submissions.dialect import Report
from submissions.reader import parse_created
from submissions.scoring import Score
from submissions.storage.models import CheckResult, Student, Submission, utcnow


class ReportIdTaken(Exception):
    """The report id is already stored for another student."""


@dataclass(frozen=True)
class Stored:
    submission: Submission
    created: bool  # False: the same report was stored before (idempotent repeat)


def find_submission(session: Session, report_id: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.report_id == report_id))


def store_submission(
    session: Session,
    *,
    student: Student,
    report: Report,
    score: Score,
    raw_xml: str,
    via: str,
) -> Stored:
    """Store the report for ``student``, or return the one already stored under its id.

    Safe under concurrency: two workers storing the same report id race on the
    unique constraint, and the loser returns the winner's row.
    """
    existing = find_submission(session, report.report_id)
    if existing is None:
        submission = Submission(
            report_id=report.report_id,
            student_pk=student.id,
            course_id=student.course_id,
            received_at=utcnow(),
            created=parse_created(report.created),
            lab=report.lab,
            score=score.score,
            max_score=score.max_score,
            checks_digest=report.checks_digest,
            grader_version=report.grader_version,
            engine_id=report.engine_id,
            raw_xml=raw_xml,
            flagged=score.flagged,
            flag_reason=score.flag_reason[:1000],
            via=via,
        )
        try:
            session.add(submission)
            session.flush()
            if score.checks:
                session.execute(
                    insert(CheckResult),
                    [
                        {
                            "submission_id": submission.id,
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
            session.commit()
            return Stored(submission, created=True)
        except IntegrityError:
            session.rollback()
            existing = find_submission(session, report.report_id)
            if existing is None:
                raise
    if existing.student_pk != student.id:
        raise ReportIdTaken(report.report_id)
    return Stored(existing, created=False)
