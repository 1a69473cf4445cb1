"""Re-scoring an assignment's stored reports with its newest rubric version (issue 19).

A rubric change (``grade-server assignment rubric``) scores new reports only; this module
brings the stored ones along, first as a preview, then for real:

* A report is re-scored from its stored check rows (each check's status) by
  :func:`submissions.scoring.rescored`, the rule :func:`~submissions.scoring.score_report`
  scores with at ingest. A report whose check rows were dropped (past a student's latest
  50 and their best, :func:`webhook.ingest.store.drop_old_raw`) cannot be: it keeps its
  score and its ``rubric_version``, and is counted (``kept_old``).
* Grades are the one grade function's (:func:`webhook.storage.queries.assignment_grades`),
  before and after. The preview (:func:`plan`) computes the new scores in memory and hands
  them to that function (its ``rescored``): no write, no lock, so a preview page holds up no
  student's upload. :func:`apply` makes the same plan inside its one write transaction
  (the assignment's row locked, so two applies at once run one after the other and the
  second finds nothing left), then writes exactly those scores: the grades after the commit
  are the preview's.
* Only the students whose grade changed are told (:func:`webhook.grade_events.notify_grade_changed`,
  in the transaction): LTI's outbox sends each of them once, and nobody else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from submissions.rubric import Rubric
from submissions.scoring import check_points, rescored
from webhook.grade_events import notify_grade_changed
from webhook.storage.assignments import newest_version
from webhook.storage.models import (
    Assignment,
    AssignmentRescore,
    Submission,
    SubmissionCheck,
    utcnow,
)
from webhook.storage.queries import assignment_grades


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
    reports_changed: int  # of those, how many get another score
    kept_old: int  # reports of older versions without check rows: their score stays
    changes: tuple[Change, ...]  # in roster order
    unchanged: int  # students whose grade stays
    max_score: int  # the newest version's

    @property
    def nothing(self) -> bool:
        """Every report that can be re-scored is already the newest version's."""
        return not self.scores

    @property
    def raised(self) -> int:
        return sum(1 for change in self.changes if change.raised)

    @property
    def lowered(self) -> int:
        return len(self.changes) - self.raised

    def versions_said(self) -> str:
        return ", ".join(f"v{v}" for v in self.from_versions) or "-"


def plan(session: Session, assignment: Assignment) -> Plan:
    """The preview: new scores computed in memory, grades by the one grade function."""
    version, rubric = newest_version(session, assignment.id)
    older = (
        Submission.assignment_id == assignment.id,
        Submission.rubric_version < version,
    )
    checks: dict[int, list[tuple[str, str]]] = defaultdict(list)
    old_scores: dict[int, int] = {}
    versions: set[int] = set()
    kept_old = 0
    for pk, score, from_version, dropped in session.execute(
        select(
            Submission.id, Submission.score, Submission.rubric_version, Submission.raw_dropped_at
        ).where(*older)
    ):
        if dropped is not None:
            kept_old += 1
            continue
        old_scores[pk] = score
        versions.add(from_version)
    for pk, check_id, status in session.execute(
        select(SubmissionCheck.submission_id, SubmissionCheck.check_id, SubmissionCheck.status)
        .join(Submission, Submission.id == SubmissionCheck.submission_id)
        .where(*older, Submission.raw_dropped_at.is_(None))
    ):
        checks[pk].append((check_id, status))
    scores = {pk: rescored(checks[pk], rubric) for pk in old_scores}
    before = assignment_grades(session, assignment)
    after = assignment_grades(session, assignment, rescored=scores) if scores else before
    changes = tuple(
        Change(old.student.id, old.student.student_id, old.student.name, old.grade, new.grade)
        for old, new in zip(before, after, strict=True)
        if old.grade != new.grade
    )
    return Plan(
        to_version=version,
        from_versions=tuple(sorted(versions)),
        scores=scores,
        reports_changed=sum(1 for pk, score in scores.items() if score != old_scores[pk]),
        kept_old=kept_old,
        changes=changes,
        unchanged=len(before) - len(changes),
        max_score=rubric.max_score,
    )


@dataclass(frozen=True)
class Applied:
    plan: Plan
    done_at: datetime


_SET_SCORE = (
    update(Submission).where(Submission.id == bindparam("pk")).values(score=bindparam("score"))
)
_SET_CHECK = (
    update(SubmissionCheck)
    .where(SubmissionCheck.id == bindparam("pk"))
    .values(points=bindparam("points"), max_points=bindparam("most"))
)


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
        rubric = newest_version(session, assignment.id)[1]
        scope = _rescored(assignment, made)
        _write_checks(connection, scope, rubric)
        old = {
            pk: score
            for pk, score in session.execute(select(Submission.id, Submission.score).where(*scope))
        }
        changed = [
            {"pk": pk, "score": score} for pk, score in made.scores.items() if old.get(pk) != score
        ]
        if changed:
            connection.execute(_SET_SCORE, changed)
        connection.execute(
            update(Submission)
            .where(*scope)
            .values(rubric_version=made.to_version, max_score=made.max_score)
        )
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
        for change in made.changes:
            notify_grade_changed(connection, change.student_pk)  # in this transaction
        return Applied(made, now)


def _rescored(assignment: Assignment, made: Plan) -> tuple[ColumnElement[bool], ...]:
    """The reports :func:`plan` re-scored: of older versions, their check rows kept."""
    return (
        Submission.assignment_id == assignment.id,
        Submission.rubric_version < made.to_version,
        Submission.raw_dropped_at.is_(None),
    )


def _write_checks(
    connection: Connection, scope: tuple[ColumnElement[bool], ...], rubric: Rubric
) -> None:
    """Each re-scored check row's points and maximum from the new version, so that a
    report's page adds up to its score (only the rows that differ are written)."""
    rows = []
    for pk, check_id, status, points, most in connection.execute(
        select(
            SubmissionCheck.id,
            SubmissionCheck.check_id,
            SubmissionCheck.status,
            SubmissionCheck.points,
            SubmissionCheck.max_points,
        )
        .join(Submission, Submission.id == SubmissionCheck.submission_id)
        .where(*scope)
    ):
        earned, new_most = check_points(rubric, check_id, status)
        if (earned, new_most) != (points, most):
            rows.append({"pk": pk, "points": earned, "most": new_most})
    if rows:
        connection.execute(_SET_CHECK, rows)


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
