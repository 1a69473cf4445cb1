"""Read models for the export (and the LMS passback): one row per student of an assignment.

A grade is an assignment's (issue 19): its reports, its deadline, grade and late policies
and the student's exceptions, decided by :func:`submissions.scoring.assignment_grade`
(:func:`student_decision` for one student, :func:`assignment_grades` for all).
:func:`course_grades` is the grades of a course's first assignment, for what still shows
one grade per course (the exports of a course without assignments).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import cast

from sqlalchemy import ColumnElement, Connection, Executable, bindparam, select
from sqlalchemy.orm import Session, aliased

from submissions.exceptions import NO_EXCEPTIONS, Exceptions
from submissions.lateness import CUTOFF, NONE, BadLatePolicy, LatePolicy
from submissions.scoring import (
    SOURCES,
    Decision,
    GradePolicy,
    Source,
    Sources,
    StoredReport,
    assignment_grade,
)
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import (
    DEFAULT_GRADE_POLICY,
    Assignment,
    Course,
    Flag,
    Student,
    Submission,
)
from webhook.storage.student_exceptions import in_force

NO_DECISION = Decision(grade=None)


@dataclass(frozen=True)
class StudentGrades:
    student: Student
    submissions: int
    grade: int | None  # decision.grade; None: nothing counts (or excused)
    open_flags: tuple[str, ...]  # the student's open flags, said briefly ("no evidence")
    # submissions.scoring.assignment_grade's: raw, penalty, grade and the marks late,
    # extended, excused, overridden
    decision: Decision = NO_DECISION

    @property
    def withheld(self) -> bool:
        """Reports were sent, but none counts (flagged, rejected or late)."""
        return self.submissions > 0 and self.grade is None


def stored_reports(
    session: Session | Connection, *where: ColumnElement[bool]
) -> Iterator[tuple[int, StoredReport]]:
    """The reports ``where`` selects, each with its student's key, as
    :func:`submissions.scoring.assignment_grade` weighs them (the export and the passback
    alike): with their own date and the kinds of their flags (one query for all of them),
    which say when each counts as submitted."""
    return _stored(session, _kinds_of(*where), select(*_REPORT_COLUMNS).where(*where), {})


_REPORT_COLUMNS = (
    Submission.student_pk,
    Submission.id,
    Submission.score,
    Submission.received_at,
    Submission.flagged,
    Submission.rejected,
    Submission.source,
    Submission.created,
)


def _kinds_of(*where: ColumnElement[bool]) -> Executable:
    return (
        select(Flag.submission_id, Flag.kind)
        .where(Flag.submission_id.in_(select(Submission.id).where(*where)))
        .distinct()
    )


#: One student's reports of one assignment (:func:`student_decision`, at each report):
#: :func:`stored_reports`' two queries, made once.
_ONE = (
    Submission.student_pk == bindparam("student_pk"),
    Submission.assignment_id == bindparam("assignment_id"),
)
_KINDS_OF_ONE = _kinds_of(*_ONE)
_REPORTS_OF_ONE = select(*_REPORT_COLUMNS).where(*_ONE)


def _stored(
    session: Session | Connection,
    kinds_query: Executable,
    reports_query: Executable,
    params: dict[str, int],
) -> Iterator[tuple[int, StoredReport]]:
    kinds: dict[int, set[str]] = defaultdict(set)
    for submission_id, kind in session.execute(kinds_query, params):
        if submission_id is not None:
            kinds[submission_id].add(kind)
    rows = session.execute(reports_query, params)
    for student_pk, pk, score, received_at, flagged, rejected, stored_source, created in rows:
        source = cast(Source, "verified" if stored_source == "verified" else "self")
        yield student_pk, StoredReport(
            pk, score, received_at, flagged, rejected, source,
            created=created, flag_kinds=frozenset(kinds.get(pk, ())),
        )  # fmt: skip


def late_policy(assignment: Assignment) -> LatePolicy:
    """The assignment's late policy (a stored text that no longer parses: ``cutoff``, as
    before late policies; the CLI refuses to store one)."""
    try:
        return LatePolicy.parse(assignment.late_policy or str(CUTOFF))
    except BadLatePolicy:
        return CUTOFF


def grade_policy(assignment: Assignment, policy: GradePolicy | None = None) -> GradePolicy:
    """``policy`` (the exports' switches) under the assignment's own rules: its grade policy
    decides the sources and its late policy lateness. An export's ``include_late`` counts
    the late reports a ``cutoff`` drops (as it did before late policies); it never lifts a
    ``penalty``."""
    policy = policy or GradePolicy()
    late = late_policy(assignment)
    if late == CUTOFF and policy.include_late:
        late = NONE
    return replace(policy, sources=course_sources(assignment), late=late)


def student_decision(
    session: Session | Connection,
    assignment: Assignment,
    student_pk: int,
    policy: GradePolicy | None = None,
) -> Decision:
    """One student's decision for the assignment, exactly as :func:`assignment_grades` makes
    it (the LMS passback's): the same reports, policies and exceptions. On a ``Connection``
    its few queries skip the ORM (what ingest pays for at each report)."""
    params = {"student_pk": student_pk, "assignment_id": assignment.id}
    reports = [report for _, report in _stored(session, _KINDS_OF_ONE, _REPORTS_OF_ONE, params)]
    exceptions = in_force(session, assignment.id, student_pk).get(student_pk, NO_EXCEPTIONS)
    return _decide(session, assignment, grade_policy(assignment, policy), reports, exceptions)


def _decide(
    session: Session | Connection,
    assignment: Assignment,
    policy: GradePolicy,
    reports: list[StoredReport],
    exceptions: Exceptions,
) -> Decision:
    max_score = newest_rubric(session, assignment.id).max_score if exceptions.override else None
    return assignment_grade(
        reports, policy, due=assignment.closes_at, exceptions=exceptions, max_score=max_score
    )


def grades_rescored(
    session: Session, assignment: Assignment, rescored: Mapping[int, int]
) -> list[tuple[Student, Decision, Decision]]:
    """Every student of the assignment's course in roster order, with their decision now
    and the one with ``rescored`` (report id → score) standing in for stored scores: what a
    rescore's preview shows (:mod:`webhook.rescore`), by :func:`assignment_grades`' very
    reports, policies and exceptions, read once for both. A student none of whose scores
    changes keeps their decision (the same reports decide the same), undecided again."""
    policy = grade_policy(assignment)
    students = session.scalars(
        select(Student)
        .where(Student.course_id == assignment.course_id)
        .order_by(Student.student_id)
    ).all()
    reports: dict[int, list[StoredReport]] = defaultdict(list)
    changed: set[int] = set()
    for pk, report in stored_reports(session, Submission.assignment_id == assignment.id):
        reports[pk].append(report)
        if rescored.get(report.id, report.score) != report.score:
            changed.add(pk)
    exceptions = in_force(session, assignment.id)
    rows = []
    for student in students:
        mine = reports.get(student.id, [])
        excepted = exceptions.get(student.id, NO_EXCEPTIONS)
        before = _decide(session, assignment, policy, mine, excepted)
        after = before
        if student.id in changed:
            scored = [_with_score(r, rescored.get(r.id, r.score)) for r in mine]
            after = _decide(session, assignment, policy, scored, excepted)
        rows.append((student, before, after))
    return rows


def _with_score(report: StoredReport, score: int) -> StoredReport:
    """``report`` scored ``score`` (``dataclasses.replace`` costs 20,000 reflections)."""
    if score == report.score:
        return report
    return StoredReport(
        report.id, score, report.received_at, report.open_flags, report.rejected,
        report.source, report.created, report.flag_kinds,
    )  # fmt: skip


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
    and lateness its late policy, whatever ``policy`` says (:func:`grade_policy`): the
    exports cannot disagree with the passback; late is after the student's own due time
    (its ``closes_at``, or their extension). A few plain queries (the roster, the
    assignment's reports and their flags' kinds, the exceptions in force, the open flags of
    its reports and of the course's refused copies); the grade itself is
    :func:`submissions.scoring.assignment_grade`'s to decide, student by student.

    ``rescored`` (report id → score) stands in for stored scores: a rescore's preview asks
    what the grades would be, by this same function, without writing
    (:mod:`webhook.rescore`).
    """
    policy = grade_policy(assignment, policy)
    students = session.scalars(
        select(Student)
        .where(Student.course_id == assignment.course_id)
        .order_by(Student.student_id)
    ).all()
    reports: dict[int, list[StoredReport]] = defaultdict(list)
    for pk, report in stored_reports(session, Submission.assignment_id == assignment.id):
        if rescored and report.id in rescored:
            report = replace(report, score=rescored[report.id])
        reports[pk].append(report)
    exceptions = in_force(session, assignment.id)
    flags = open_flags(session, assignment.course_id, [assignment.id])[assignment.id]
    rows = []
    for student in students:
        decision = _decide(
            session, assignment, policy, reports[student.id],
            exceptions.get(student.id, NO_EXCEPTIONS),
        )  # fmt: skip
        rows.append(
            StudentGrades(
                student=student,
                submissions=len(reports[student.id]),
                grade=decision.grade,
                open_flags=flags.get(student.id, ()),
                decision=decision,
            )
        )
    return rows


def open_flags(
    session: Session, course_id: int, assignment_ids: Sequence[int]
) -> dict[int, dict[int, tuple[str, ...]]]:
    """Assignment id → student key → their open flags on it, said briefly ("no evidence",
    "shared evidence with s2 (3 reports)"): the flags of the assignment's reports and the
    course's flags on no report, which show under every assignment. One query."""
    other = aliased(Student)
    wanted = set(assignment_ids)
    counted: dict[int, dict[int, Counter[str]]] = {a: defaultdict(Counter) for a in wanted}
    for pk, kind, other_id, assignment_id in session.execute(
        select(Flag.student_pk, Flag.kind, other.student_id, Submission.assignment_id)
        .outerjoin(other, other.id == Flag.other_student_pk)
        .outerjoin(Submission, Submission.id == Flag.submission_id)
        .where(
            Flag.course_id == course_id,
            Flag.status == "open",
            Submission.assignment_id.in_(wanted) | Flag.submission_id.is_(None),
        )
    ):
        said = kind.replace("_", " ") + (f" with {other_id}" if other_id else "")
        for target in wanted if assignment_id is None else (assignment_id,):
            counted[target][pk][said] += 1
    return {
        a: {
            pk: tuple(f"{said} ({n} reports)" if n > 1 else said for said, n in sorted(c.items()))
            for pk, c in by_student.items()
        }
        for a, by_student in counted.items()
    }


def course_sources(course: Course | Assignment) -> Sources:
    """The assignment's (or course's) grade policy as scoring names it."""
    policy = course.grade_policy or DEFAULT_GRADE_POLICY
    return cast(Sources, policy if policy in SOURCES else DEFAULT_GRADE_POLICY)
