"""``grade-server assignment``: a course's assignments (one installed lab each) and rubrics.

An assignment's rubric is versioned: ``assignment rubric`` adds a version (the lab's shipped
rubric, or an instructor's file naming exactly the lab's checks) and keeps the old ones;
new reports are scored from the newest, and ``assignment rescore`` brings the stored ones
along (:mod:`webhook.rescore`: a preview, then ``--apply``). ``assignment set`` changes its
title, dates and policies; a change that may move grades is sent to the LMS for each of its
students. Per-student exceptions are :mod:`webhook.cli.assignment_exceptions`'s. Errors as
every ``grade-server`` command's: an unknown course, assignment or lab exits 3, a rubric
file that cannot be used 4, a slug taken 6, dates in the wrong order, an unknown grade or
late policy, a rubric whose maximum is below a student's override 8;
nothing is changed by a refused command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from submissions.lateness import BadLatePolicy, LatePolicy
from submissions.rubric import Rubric, RubricError, load_rubric
from webhook import crosscheck, rescore
from webhook.board import store as board_store
from webhook.cli.course import POLICY_HELP, TIME_HELP, check_dates, parse_moment, parse_policy
from webhook.cli.errors import AlreadyExists, BadInput, BadValue, NotFound, database_command
from webhook.cli.lookup import find_course
from webhook.database import get_db
from webhook.grade_events import assignment_changed, course_changed
from webhook.labs import UnknownLab, check_matches, known_lab, lab_rubric
from webhook.storage import stored_grades
from webhook.storage.assignments import (
    add_assignment,
    add_rubric_version,
    by_slug,
    newest_rubric,
)
from webhook.storage.db import write_transaction
from webhook.storage.models import (
    Assignment,
    AssignmentException,
    AssignmentRubric,
    Course,
    Submission,
)
from webhook.storage.student_exceptions import history, overrides_above

LATE_HELP = (
    "Late reports: none (count in full), cutoff (do not count) or "
    "penalty:grace=15m,per-day=10%,floor=50% (per started day after the grace)"
)


def parse_late_policy(value: str) -> str:
    """A late policy named on the command line, as stored; a bad one is one line, exit 8."""
    try:
        return str(LatePolicy.parse(value))
    except BadLatePolicy as exc:
        raise BadValue(f"--late-policy: {exc}") from None


@click.group("assignment", help="A course's assignments: one installed lab each.")
def assignment_group() -> None:
    pass


def find_assignment(session: Session, course: Course, slug: str) -> Assignment:
    assignment = by_slug(session, course.id, slug)
    if assignment is None:
        raise NotFound(
            f"course {course.slug} has no assignment {slug[:64]!r} "
            f"(see `grade-server assignment list {course.slug}`)"
        )
    return assignment


def _lab_rubric(lab: str) -> Rubric:
    try:
        return lab_rubric(lab)
    except UnknownLab as exc:
        raise NotFound(str(exc)) from None
    except RubricError as exc:
        raise BadInput(str(exc)) from None


@database_command(assignment_group, "create")
@click.argument("course_slug", metavar="COURSE")
@click.argument("slug")
@click.option("--lab", required=True, help="An installed lab (grade's --lab names).")
@click.option("--title", help="Its name in the gradebook and the exports' column.")
@click.option("--opens", "opens_at", help=f"Reports dated earlier are flagged. {TIME_HELP}.")
@click.option("--closes", "closes_at", help=f"The deadline: later reports are late. {TIME_HELP}.")
@click.option("--grade-policy", help=POLICY_HELP + " (default: the course's).")
@click.option("--late-policy", help=LATE_HELP + " (default: cutoff).")
def assignment_create(
    course_slug: str,
    slug: str,
    lab: str,
    title: str | None,
    opens_at: str | None,
    closes_at: str | None,
    grade_policy: str | None,
    late_policy: str | None,
) -> None:
    """Add the assignment SLUG of an installed lab to COURSE, its rubric the lab's own."""
    slug = slug.strip()
    if not slug or "/" in slug or len(slug) > 64:
        raise BadInput(f"assignment slug {slug[:80]!r} must be 1 to 64 characters, without '/'")
    opens, closes = parse_moment(opens_at, "--opens"), parse_moment(closes_at, "--closes")
    policy = parse_policy(grade_policy) if grade_policy is not None else None
    late = parse_late_policy(late_policy) if late_policy is not None else None
    with get_db().session() as session:
        course = find_course(session, course_slug)
        check_dates(
            course.opens_at if opens is None else opens,
            course.closes_at if closes is None else closes,
            "assignment",
        )
        try:
            known_lab(lab)
        except UnknownLab as exc:
            raise NotFound(str(exc)) from None
        rubric = _lab_rubric(lab)
        try:
            assignment = add_assignment(
                session, course, rubric, slug=slug, title=(title or "").strip() or slug,
                opens_at=opens, closes_at=closes, grade_policy=policy,
                created_by="assignment create",
            )  # fmt: skip
            if late is not None:
                assignment.late_policy = late
        except IntegrityError:
            raise AlreadyExists(
                f"course {course_slug} already has an assignment {slug!r}"
            ) from None
        session.commit()
        click.echo(f"created assignment {course.slug}/{slug}: {_said(assignment)}", err=True)


@database_command(assignment_group, "list")
@click.argument("course_slug", metavar="COURSE")
def assignment_list(course_slug: str) -> None:
    """List COURSE's assignments: slug, lab, dates, grade policy, rubric version, reports."""
    with get_db().session() as session:
        course = find_course(session, course_slug)
        rows = session.execute(
            select(Assignment, func.count(Submission.id))
            .outerjoin(Submission, Submission.assignment_id == Assignment.id)
            .where(Assignment.course_id == course.id)
            .group_by(Assignment.id)
            .order_by(Assignment.slug)
        ).all()
        for assignment, reports in rows:
            click.echo(f"{assignment.slug}\t{_said(assignment)}\t{reports} report(s)")


@database_command(assignment_group, "show")
@click.argument("course_slug", metavar="COURSE")
@click.argument("slug")
def assignment_show(course_slug: str, slug: str) -> None:
    """Show an assignment and its rubric versions (the newest scores new reports)."""
    with get_db().session() as session:
        assignment = find_assignment(session, find_course(session, course_slug), slug)
        board = board_store.said(*board_store.setting(session.connection(), assignment.id))
        click.echo(f"{course_slug}/{assignment.slug}: {_said(assignment)}, {board}")
        for row in session.scalars(
            select(AssignmentRubric)
            .where(AssignmentRubric.assignment_id == assignment.id)
            .order_by(AssignmentRubric.version)
        ):
            click.echo(
                f"rubric v{row.version}\t{row.created_at:%F %T} UTC\t{row.created_by or '-'}"
            )
        for student_id, made in history(session, assignment.id):
            click.echo(_exception_said(student_id, made))


@database_command(assignment_group, "rubric")
@click.argument("course_slug", metavar="COURSE")
@click.argument("slug")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def assignment_rubric(course_slug: str, slug: str, file: Path | None) -> None:
    """Give the assignment a new rubric version: FILE (naming exactly the lab's checks),
    else the lab's shipped rubric. Old versions stay; new reports are scored from this one."""
    with get_db().session() as session:
        assignment = find_assignment(session, find_course(session, course_slug), slug)
        shipped = _lab_rubric(assignment.lab)
        try:
            rubric = shipped if file is None else load_rubric(file)
            check_matches(rubric, assignment.lab, shipped)
        except RubricError as exc:
            raise BadInput(str(exc)) from None
        if rubric == newest_rubric(session, assignment.id):
            click.echo(f"{course_slug}/{slug}: the rubric is unchanged (no new version)", err=True)
            return
        above = overrides_above(session, assignment.id, rubric.max_score)
        if above:
            student_id, grade = above[0]
            raise BadValue(
                f"{len(above)} override(s) above the new maximum of {rubric.max_score}"
                f" ({student_id}: {grade}): change or remove them first"
                f" (`grade-server assignment override`)"
            )
        row = add_rubric_version(session, assignment, rubric, created_by="assignment rubric")
        session.commit()
        click.echo(
            f"{course_slug}/{slug}: rubric v{row.version} ({len(rubric)} checks,"
            f" {rubric.max_score} points) scores new reports",
            err=True,
        )


@database_command(assignment_group, "set")
@click.argument("course_slug", metavar="COURSE")
@click.argument("slug")
@click.option("--title", help="Its name in the gradebook and the exports' column.")
@click.option(
    "--opens", "opens_at", help=f"Reports dated earlier are flagged. {TIME_HELP}, or none."
)
@click.option("--closes", "closes_at", help=f"The deadline. {TIME_HELP}, or none.")
@click.option("--grade-policy", help=POLICY_HELP + ".")
@click.option("--late-policy", help=LATE_HELP + ".")
@click.option(
    "--progress",
    type=click.Choice(["on", "off"]),
    help="Take students' live progress for the class board (grade --watch --submit).",
)
@click.option(
    "--stuck-minutes",
    type=click.IntRange(1, 600),
    help="On the board, a student whose same check fails the same way this long is stuck"
    " (default 5).",
)
def assignment_set(
    course_slug: str,
    slug: str,
    title: str | None,
    opens_at: str | None,
    closes_at: str | None,
    grade_policy: str | None,
    late_policy: str | None,
    progress: str | None,
    stuck_minutes: int | None,
) -> None:
    """Change the assignment's title, dates (none clears one), policies or class board. Its
    students' grades are sent to the LMS again (a close or policy may change them); a new
    opening re-checks the course's reports. The board's settings change no grade."""
    values: dict[str, Any] = {}
    if title is not None:
        if not title.strip():
            raise BadValue("--title must not be empty")
        values["title"] = title.strip()[:200]
    if opens_at is not None:
        values["opens_at"] = parse_moment(opens_at, "--opens", clearable=True)
    if closes_at is not None:
        values["closes_at"] = parse_moment(closes_at, "--closes", clearable=True)
    if grade_policy is not None:
        values["grade_policy"] = parse_policy(grade_policy)
    if late_policy is not None:
        values["late_policy"] = parse_late_policy(late_policy)
    board_change = progress is not None or stuck_minutes is not None
    if not values and not board_change:
        raise BadValue(
            "say what to change: --title, --opens, --closes, --grade-policy, --late-policy,"
            " --progress or --stuck-minutes"
        )
    with get_db().session() as session:
        assignment = find_assignment(session, find_course(session, course_slug), slug)
        check_dates(
            values.get("opens_at", assignment.opens_at),
            values.get("closes_at", assignment.closes_at),
            "assignment",
        )
        assignment_id, course_id = assignment.id, assignment.course_id
    with write_transaction(get_db().engine) as connection:
        if board_change:
            board = board_store.set_board(
                connection,
                assignment_id,
                progress=None if progress is None else progress == "on",
                stuck_minutes=stuck_minutes,
            )
            click.echo(f"{course_slug}/{slug}: {board_store.said(*board)}", err=True)
        if not values:
            return
        # the reports since decided first: the LMS hears of the grades this change moves
        stored_grades.settle_stale(connection, course_id=course_id)
        connection.execute(
            update(Assignment).where(Assignment.id == assignment_id).values(**values)
        )
        if "opens_at" in values:  # its flags may change any report of the course
            crosscheck.recheck_course(connection, course_id)
            course_changed(connection, course_id)
        elif values.keys() - {"title"}:
            assignment_changed(connection, assignment_id)
    with get_db().session() as session:
        changed = session.get(Assignment, assignment_id)
        assert changed is not None
        click.echo(f"{course_slug}/{slug}: {_said(changed)}", err=True)


@database_command(assignment_group, "rescore")
@click.argument("course_slug", metavar="COURSE")
@click.argument("slug")
@click.option("--apply", "apply_it", is_flag=True, help="Re-score for real (else a preview).")
def assignment_rescore(course_slug: str, slug: str, apply_it: bool) -> None:
    """Re-score the assignment's stored reports with its newest rubric version: first a
    preview (each student whose grade changes, old → new, and counts); --apply re-scores in
    one transaction, keeps the history and queues the changed grades for the LMS."""
    with get_db().session() as session:
        assignment = find_assignment(session, find_course(session, course_slug), slug)
        assignment_id = assignment.id
        if not apply_it:
            made = rescore.plan(session, assignment)
    if apply_it:  # planned inside its transaction: what it applies is what it prints
        with write_transaction(get_db().engine) as connection:
            applied = rescore.apply(connection, assignment_id, by="assignment rescore")
        if applied is None:  # deleted meanwhile
            raise NotFound(f"course {course_slug} has no assignment {slug[:64]!r}")
        made = applied.plan
    name = f"{course_slug}/{slug}"
    if made.nothing:
        click.echo(f"{name}: nothing to rescore: {rescore.nothing_said(made)}", err=True)
        return
    for change in made.changes:
        click.echo(f"{change.student_id}\t{_grade(change.old)} → {_grade(change.new)}")
    click.echo(f"{name}: {rescore.summary(made)}", err=True)
    if apply_it:
        click.echo(f"{name}: applied; the changed grades are queued for the LMS", err=True)
    else:
        click.echo(f"{name}: a preview; nothing changed (--apply to re-score)", err=True)


def _grade(grade: int | None) -> str:
    return "-" if grade is None else str(grade)


def _said(assignment: Assignment) -> str:
    opens = "not set" if assignment.opens_at is None else f"{assignment.opens_at:%F %T} UTC"
    closes = "not set" if assignment.closes_at is None else f"{assignment.closes_at:%F %T} UTC"
    return (
        f"lab {assignment.lab}, {assignment.title!r}, opens {opens}, closes {closes},"
        f" grade policy {assignment.grade_policy}, late policy {assignment.late_policy}"
    )


def _exception_said(student_id: str, made: AssignmentException) -> str:
    """One exception as ``assignment show`` lists it: what, for whom, who, when, why."""
    what = {
        "extension": (
            f"extension until {made.until:%F %T} UTC"
            if made.until is not None
            else f"extension of {made.extra_days} day(s)"
        ),
        "excused": "excused",
        "override": f"override {made.grade}",
    }.get(made.kind, made.kind)
    said = f"{what}\t{student_id}\t{made.set_at:%F %T} UTC by {made.set_by}\t{made.note}"
    if made.removed_at is not None:
        said += f"\tremoved {made.removed_at:%F %T} UTC by {made.removed_by}: {made.removed_note}"
    return said
