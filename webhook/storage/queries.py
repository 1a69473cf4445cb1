"""Read models for the gradebook and the export: one row per student of a course."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session, aliased

from webhook.storage.models import Course, Student, Submission


@dataclass(frozen=True)
class StudentGrades:
    student: Student
    submissions: int
    best_score: int | None
    latest_score: int | None
    max_score: int | None
    flagged: bool  # any of the student's submissions is flagged


def course_grades(session: Session, course: Course) -> list[StudentGrades]:
    """Every student of ``course`` with their best and latest score, in one query.

    The latest submission is found per student through the (student_pk,
    received_at) index; the totals come from one grouped scan.
    """
    totals = (
        select(
            Submission.student_pk,
            func.count().label("n"),
            func.max(Submission.score).label("best"),
            func.max(func.cast(Submission.flagged, Integer)).label("flagged"),
        )
        .where(Submission.course_id == course.id)
        .group_by(Submission.student_pk)
        .subquery()
    )
    latest_id = (
        select(Submission.id)
        .where(Submission.student_pk == Student.id)
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(1)
        .correlate(Student)
        .scalar_subquery()
    )
    latest = aliased(Submission)
    rows = session.execute(
        select(
            Student,
            totals.c.n,
            totals.c.best,
            totals.c.flagged,
            latest.score,
            latest.max_score,
        )
        .outerjoin(totals, totals.c.student_pk == Student.id)
        .outerjoin(latest, latest.id == latest_id)
        .where(Student.course_id == course.id)
        .order_by(Student.student_id)
    )
    return [
        StudentGrades(
            student=student,
            submissions=n or 0,
            best_score=best,
            latest_score=score,
            max_score=max_score,
            flagged=bool(flagged),
        )
        for student, n, best, flagged, score, max_score in rows
    ]
