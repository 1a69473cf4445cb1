"""Read models for the export (and the LMS passback): one row per student of an assignment.

A grade is an assignment's (issue 19): its reports, its deadline and grade policy, decided
by :func:`submissions.scoring.course_grade`. :func:`course_grades` is the grades of a
course's first assignment, for what still shows one grade per course (the gradebook's
course page, the exports, the LTI passback).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
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
from webhook.storage.models import (
    DEFAULT_GRADE_POLICY,
    Assignment,
    Course,
    Flag,
    Student,
    Submission,
)


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


def first_assignment(session: Session, course: Course) -> Assignment | None:
    """The course's first assignment (the one every course had before assignments)."""
    return session.scalars(
        select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id)
    ).first()


def course_grades(
    session: Session, course: Course, policy: GradePolicy | None = None
) -> list[StudentGrades]:
    """:func:`assignment_grades` of the course's first assignment (none: nobody's graded)."""
    assignment = first_assignment(session, course)
    if assignment is None:
        return [
            StudentGrades(student, 0, None, ())
            for student in session.scalars(
                select(Student).where(Student.course_id == course.id).order_by(Student.student_id)
            )
        ]
    return assignment_grades(session, assignment, policy)


def assignment_grades(
    session: Session,
    assignment: Assignment,
    policy: GradePolicy | None = None,
    *,
    rescored: Mapping[int, int] | None = None,
) -> list[StudentGrades]:
    """Every student of the assignment's course in roster order, with their grade for it.

    Which sources count (self-reported, verified) is always the assignment's grade policy,
    whatever ``policy`` says: the exports cannot disagree with it; late is after its
    ``closes_at``. Three plain queries (the roster, the assignment's reports, the open flags
    of its reports and of the course's refused copies); the grade itself is
    :func:`submissions.scoring.course_grade`'s to decide, report by report.

    ``rescored`` (report id → score) stands in for stored scores: a rescore's preview asks
    what the grades would be, by this same function, without writing
    (:mod:`webhook.rescore`).
    """
    policy = replace(policy or GradePolicy(), sources=course_sources(assignment))
    students = session.scalars(
        select(Student)
        .where(Student.course_id == assignment.course_id)
        .order_by(Student.student_id)
    ).all()
    reports: dict[int, list[StoredReport]] = defaultdict(list)
    for student_pk, report in stored_reports(session, Submission.assignment_id == assignment.id):
        if rescored and report.id in rescored:
            report = replace(report, score=rescored[report.id])
        reports[student_pk].append(report)
    other = aliased(Student)
    flags: dict[int, Counter[str]] = defaultdict(Counter)
    for student_pk, kind, other_id in session.execute(
        select(Flag.student_pk, Flag.kind, other.student_id)
        .outerjoin(other, other.id == Flag.other_student_pk)
        .outerjoin(Submission, Submission.id == Flag.submission_id)
        .where(
            Flag.course_id == assignment.course_id,
            Flag.status == "open",
            (Submission.assignment_id == assignment.id) | Flag.submission_id.is_(None),
        )
    ):
        said = kind.replace("_", " ") + (f" with {other_id}" if other_id else "")
        flags[student_pk][said] += 1
    return [
        StudentGrades(
            student=student,
            submissions=len(reports[student.id]),
            grade=course_grade(reports[student.id], policy, closes_at=assignment.closes_at),
            open_flags=tuple(
                f"{said} ({n} reports)" if n > 1 else said
                for said, n in sorted(flags[student.id].items())
            ),
        )
        for student in students
    ]


def course_sources(course: Course | Assignment) -> Sources:
    """The assignment's (or course's) grade policy as scoring names it."""
    policy = course.grade_policy or DEFAULT_GRADE_POLICY
    return cast(Sources, policy if policy in SOURCES else DEFAULT_GRADE_POLICY)
