"""Re-scoring an assignment's stored reports with its newest rubric version (issue 19).

A rubric change (``grade-server assignment rubric``) scores new reports only; this module
brings the stored ones along, first as a preview, then for real:

* A report is re-scored from its stored check rows (each check's status): each earns what
  :func:`submissions.scoring.check_points` says, the rule :func:`~submissions.scoring.score_report`
  scores with at ingest, handed to the database as a table of parameters
  (:func:`~submissions.scoring.points_table`) that it adds up per report: 340,000 rows are
  not fetched into Python. A report whose check rows were dropped (past a student's latest
  50 and their best, :func:`webhook.ingest.store.drop_old_raw`) cannot be: it keeps its
  score and its ``rubric_version``, and is counted (``kept_old``).
* Grades are the one grade function's, before and after, from one reading of the reports
  (:func:`webhook.storage.queries.grades_rescored`: the reports, policies and exceptions
  :func:`~webhook.storage.queries.assignment_grades` decides from, each student decided
  again only when one of their scores changes). The preview (:func:`plan`) computes the new
  scores in memory and hands them to it: no write, no lock, so a preview page holds up no
  student's upload. :func:`apply` makes the same plan inside its one write transaction
  (the assignment's row locked, so two applies at once run one after the other and the
  second finds nothing left), then writes exactly those scores (one batched statement):
  the grades after the commit are the ones it computed, and the preview's unless a report
  or a decision came in between.
* Only the students whose grade changed are told (:func:`webhook.grade_events.assignment_changed`,
  in the transaction, which also stores the grades decided again): LTI's outbox marks them
  in one statement (its batch form) and sends each once, and nobody else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from submissions.rubric import Rubric
from submissions.scoring import Decision, points_table
from webhook.grade_events import assignment_changed
from webhook.storage import stored_grades
from webhook.storage.assignments import newest_version, rubric_versions
from webhook.storage.models import (
    Assignment,
    AssignmentRescore,
    Student,
    Submission,
    SubmissionCheck,
    utcnow,
)
from webhook.storage.queries import grades_rescored


@dataclass(frozen=True, slots=True)
class Change:
    """One student whose grade a rescore changes (``None``: no grade)."""

    student_pk: int
    student_id: str  # the roster's id
    name: str
    old: int | None
    new: int | None

    @property
    def raised(self) -> bool:
        return (self.new or 0) > (self.old or 0) or (self.old is None and self.new is not None)


@dataclass(frozen=True)
class Plan:
    """What re-scoring an assignment with its newest rubric version changes."""

    to_version: int
    from_versions: tuple[int, ...]  # the versions that scored the reports re-scored
    scores: dict[int, int]  # every re-scored report's id → its new score
    old_scores: dict[int, int]  # and its score now
    kept_old: int  # reports of older versions without check rows: their score stays
    changes: tuple[Change, ...]  # in roster order
    decided: dict[int, Decision]  # every student's key → their new decision, roster order
    unchanged: int  # students whose grade stays
    max_score: int  # the newest version's
    rubric: Rubric  # the newest version, what apply writes from

    @property
    def nothing(self) -> bool:
        """Every report that can be re-scored is already the newest version's."""
        return not self.scores

    @property
    def reports_changed(self) -> int:
        """Re-scored reports that get another score."""
        return sum(1 for pk, score in self.scores.items() if score != self.old_scores[pk])

    @property
    def raised(self) -> int:
        return sum(1 for change in self.changes if change.raised)

    @property
    def lowered(self) -> int:
        return len(self.changes) - self.raised

    def versions_said(self) -> str:
        return ", ".join(f"v{v}" for v in self.from_versions) or "-"


def plan(session: Session, assignment: Assignment) -> Plan:
    """The preview: new scores computed without writing, grades by the one grade function."""
    version, rubric = newest_version(session, assignment.id)
    older = (Submission.assignment_id == assignment.id, Submission.rubric_version < version)
    old_scores: dict[int, int] = {}
    scores: dict[int, int] = {}
    versions: set[int] = set()
    kept_old = 0
    # Each check row earns what check_points says for its check and status (its table,
    # bound as parameters); the database only adds them up, report by report.
    for pk, score, from_version, dropped, total in session.execute(
        select(
            Submission.id,
            Submission.score,
            Submission.rubric_version,
            Submission.raw_dropped_at.is_not(None),  # no date to convert, 20,000 times
            _total(rubric),
        ).where(*older)
    ):
        if dropped:
            kept_old += 1
            continue
        old_scores[pk], scores[pk] = score, int(total)
        versions.add(from_version)
    # Both grades of every student from one reading of the reports (the one grade
    # function's, deciding again only those whose scores change).
    graded = grades_rescored(session, assignment, scores) if scores else []
    changes = tuple(
        Change(student.id, student.student_id, student.name, before.grade, after.grade)
        for student, before, after in graded
        if before.grade != after.grade
    )
    return Plan(
        to_version=version,
        from_versions=tuple(sorted(versions)),
        scores=scores,
        old_scores=old_scores,
        kept_old=kept_old,
        changes=changes,
        decided={student.id: after for student, _, after in graded},
        unchanged=(len(graded) if scores else _students(session, assignment)) - len(changes),
        max_score=rubric.max_score,
        rubric=rubric,
    )


def _students(session: Session, assignment: Assignment) -> int:
    """How many students the assignment's course has (nothing to re-score: none changes)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Student)
            .where(Student.course_id == assignment.course_id)
        )
        or 0
    )


def _total(rubric: Rubric) -> ScalarSelect[int]:
    """A report's score by ``rubric`` from its check rows (0 without any, as score_report
    scores a report without checks), correlated to the report's row."""
    return (
        select(func.coalesce(func.sum(_earned(points_table(rubric))), 0))
        .where(SubmissionCheck.submission_id == Submission.id)
        .scalar_subquery()
    )


def _earned(table: Iterable[tuple[str, str, int, int]]) -> ColumnElement[int]:
    """A check row's points by ``table`` (:func:`submissions.scoring.points_table`): a
    ``CASE`` on the check, then on the status (a simple ``CASE`` compares one value, which
    the database does fast for 340,000 rows)."""
    by_check: dict[str, dict[str, int]] = {}
    for check_id, status, earned, _most in table:
        if earned:
            by_check.setdefault(check_id, {})[status] = earned
    if not by_check:
        return literal(0)
    return case(
        {
            check_id: case(statuses, value=SubmissionCheck.status, else_=0)
            for check_id, statuses in by_check.items()
        },
        value=SubmissionCheck.check_id,
        else_=0,
    )


@dataclass(frozen=True)
class Applied:
    plan: Plan
    done_at: datetime


class StaleVersion(Exception):
    """The rubric got a newer version since the preview the instructor confirmed."""


def apply(
    connection: Connection, assignment_id: int, *, by: str, version: int | None = None
) -> Applied | None:
    """Re-score the assignment's reports, keep the history, tell who changed: all in the
    caller's one write transaction (:func:`webhook.storage.db.write_transaction`), which
    commits it or rolls it all back. ``None``: no such assignment. With ``version`` (the
    preview's), :class:`StaleVersion` unless that is still the newest: a confirm applies
    what it showed, never a later rubric's changes."""
    # The lock first, on the connection: it begins the caller's transaction, which the
    # session below then joins (and so never commits nor rolls back when closed).
    locked = connection.execute(
        select(Assignment.id).where(Assignment.id == assignment_id).with_for_update()
    ).scalar()
    if locked is None:
        return None
    # the reports since the last view decided first: the LMS hears of the grades this changes
    stored_grades.settle_stale(connection, assignment_id=assignment_id)
    with Session(bind=connection) as session:
        assignment = session.get_one(Assignment, assignment_id)
        made = plan(session, assignment)
        if version is not None and made.to_version != version:
            raise StaleVersion(
                f"the rubric is at v{made.to_version} now, not v{version}: review the preview again"
            )
        now = utcnow()
        if made.nothing:
            return Applied(made, now)
        scope = _rescored(assignment, made)
        _write_checks(connection, scope, _changed_checks(session, assignment, made))
        _write_scores(connection, made)
        connection.execute(
            insert(AssignmentRescore).values(
                assignment_id=assignment.id,
                done_by=by[:100],
                done_at=now,
                from_versions=", ".join(str(v) for v in made.from_versions),
                to_version=made.to_version,
                reports=len(made.scores),
                reports_changed=made.reports_changed,
                grades_changed=len(made.changes),
                kept_old=made.kept_old,
            )
        )
        # In this transaction: the stored grades decided again, and the listeners told of
        # the students whose grade changed (those of made.changes), all at once.
        # The plan's decisions are the grade function's in this transaction with the scores
        # just written: stored as they are, not decided a third time.
        assignment_changed(connection, assignment.id, made.decided)
        return Applied(made, now)


def _write_scores(connection: Connection, made: Plan) -> None:
    """The plan's scores, made from the same rows in this transaction (its lock taken
    first): one prepared statement for every re-scored report, sent as one batch (SQLite's
    executemany, psycopg's pipeline), rather than summed again by the database."""
    connection.execute(
        update(Submission)
        .where(Submission.id == bindparam("pk"))
        .values(
            score=bindparam("new_score"),
            rubric_version=made.to_version,
            max_score=made.max_score,
        ),
        [{"pk": pk, "new_score": score} for pk, score in made.scores.items()],
    )


def _rescored(assignment: Assignment, made: Plan) -> tuple[ColumnElement[bool], ...]:
    """The reports :func:`plan` re-scored: of older versions, their check rows kept."""
    return (
        Submission.assignment_id == assignment.id,
        Submission.rubric_version < made.to_version,
        Submission.raw_dropped_at.is_(None),
    )


def _changed_checks(
    session: Session, assignment: Assignment, made: Plan
) -> tuple[tuple[str, str, int, int], ...]:
    """The new version's table rows for the checks whose points differ from one of the
    versions that scored the re-scored reports (only their check rows can change)."""
    table = points_table(made.rubric)
    olds = rubric_versions(session, assignment.id, made.from_versions).values()
    changed = {row[0] for old in olds for row in set(points_table(old)) ^ set(table)}
    return tuple(row for row in table if row[0] in changed)


def _write_checks(
    connection: Connection,
    scope: tuple[ColumnElement[bool], ...],
    rows: tuple[tuple[str, str, int, int], ...],
) -> None:
    """Each re-scored check row of a changed check gets its points and maximum from the
    new version (one statement a check), so that a report's page adds up to its score."""
    reports = select(Submission.id).where(*scope)
    by_check: dict[str, list[tuple[str, int, int]]] = {}
    for check_id, status, earned, most in rows:
        by_check.setdefault(check_id, []).append((status, earned, most))
    for check_id, statuses in by_check.items():
        connection.execute(
            update(SubmissionCheck)
            .where(
                SubmissionCheck.submission_id.in_(reports),
                SubmissionCheck.check_id == check_id,
            )
            .values(
                points=case(
                    {status: earned for status, earned, _ in statuses},
                    value=SubmissionCheck.status,
                    else_=0,
                ),
                max_points=statuses[0][2],
            )
        )


def summary(made: Plan) -> str:
    """The preview's counts in one line (the CLI's and the page's)."""
    kept = (
        f"; {made.kept_old} older report(s) keep their score (their check rows were dropped)"
        if made.kept_old
        else ""
    )
    return (
        f"rubric {made.versions_said()} → v{made.to_version}: {len(made.scores)} report(s)"
        f" re-scored, {made.reports_changed} with another score{kept}; grades:"
        f" {made.raised} raised, {made.lowered} lowered, {made.unchanged} unchanged"
    )


def nothing_said(made: Plan) -> str:
    kept = (
        f" ({made.kept_old} older report(s) keep their score: their check rows were dropped)"
        if made.kept_old
        else ""
    )
    return f"every report is scored by rubric v{made.to_version}{kept}"


def history(session: Session, assignment: Assignment) -> list[AssignmentRescore]:
    """The assignment's re-scorings, oldest first."""
    return list(
        session.scalars(
            select(AssignmentRescore)
            .where(AssignmentRescore.assignment_id == assignment.id)
            .order_by(AssignmentRescore.id)
        )
    )
