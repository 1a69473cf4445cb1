"""Read models for the export (and the LMS passback): one row per student of a course."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, aliased

from submissions.scoring import (
    SOURCES,
    GradePolicy,
    Source,
    Sources,
    StoredReport,
    course_grade,
)
from webhook.storage.models import DEFAULT_GRADE_POLICY, Course, Flag, Student, Submission


@dataclass(frozen=True)
class StudentGrades:
    student: Student
    submissions: int
    grade: int | None  # decided by submissions.scoring.course_grade; None: nothing counts
    open_flags: tuple[str, ...]  # the student's open flags, said briefly ("no evidence")

    @property
    def withheld(self) -> bool:
        """Reports were sent, but none counts (flagged, rejected or late)."""
        return self.submissions > 0 and self.grade is None


def stored_reports(
    session: Session, *where: ColumnElement[bool]
) -> Iterator[tuple[int, StoredReport]]:
    """The reports ``where`` selects, each with its student's key, as
    :func:`submissions.scoring.course_grade` weighs them (the export and the passback alike)."""
    rows = session.execute(
        select(
            Submission.student_pk,
            Submission.id,
            Submission.score,
            Submission.received_at,
            Submission.flagged,
            Submission.rejected,
            Submission.source,
        ).where(*where)
    )
    for student_pk, pk, score, received_at, flagged, rejected, stored_source in rows:
        source = cast(Source, "verified" if stored_source == "verified" else "self")
        yield student_pk, StoredReport(pk, score, received_at, flagged, rejected, source)


def course_grades(
    session: Session, course: Course, policy: GradePolicy | None = None
) -> list[StudentGrades]:
    """Every student of ``course`` in roster order, with their course grade under ``policy``.

    Which sources count (self-reported, verified) is always the course's grade policy,
    whatever ``policy`` says: the exports cannot disagree with the course.
    Three plain queries (the roster, the course's reports, its open flags); the grade
    itself is :func:`submissions.scoring.course_grade`'s to decide, report by report.
    """
    policy = replace(policy or GradePolicy(), sources=course_sources(course))
    students = session.scalars(
        select(Student).where(Student.course_id == course.id).order_by(Student.student_id)
    ).all()
    reports: dict[int, list[StoredReport]] = defaultdict(list)
    for student_pk, report in stored_reports(session, Submission.course_id == course.id):
        reports[student_pk].append(report)
    other = aliased(Student)
    flags: dict[int, Counter[str]] = defaultdict(Counter)
    for student_pk, kind, other_id in session.execute(
        select(Flag.student_pk, Flag.kind, other.student_id)
        .outerjoin(other, other.id == Flag.other_student_pk)
        .where(Flag.course_id == course.id, Flag.status == "open")
    ):
        said = kind.replace("_", " ") + (f" with {other_id}" if other_id else "")
        flags[student_pk][said] += 1
    return [
        StudentGrades(
            student=student,
            submissions=len(reports[student.id]),
            grade=course_grade(reports[student.id], policy, closes_at=course.closes_at),
            open_flags=tuple(
                f"{said} ({n} reports)" if n > 1 else said
                for said, n in sorted(flags[student.id].items())
            ),
        )
        for student in students
    ]


def course_sources(course: Course) -> Sources:
    """The course's grade policy (``Course.grade_policy``) as scoring names it."""
    policy = course.grade_policy or DEFAULT_GRADE_POLICY
    return cast(Sources, policy if policy in SOURCES else DEFAULT_GRADE_POLICY)
