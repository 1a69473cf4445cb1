"""``grade-server assignment rescore``: a rubric change re-scores the stored reports.

One check's points change in a new rubric version; the preview lists exactly the students
whose grade changes (old → new) and changes nothing; ``--apply`` writes the scores, the
check rows, which version scored each report and the history, in one transaction; a second
apply finds nothing. Reports whose check rows were dropped keep their score.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, delete, select, text, update

from devlab.server.enrolment import Classroom, app_config, enrol
from devlab.server.reports import report_xml
from submissions.rubric import shipped_rubric
from webhook import create_app, grade_events, rescore
from webhook.cli.errors import EXIT_NOT_FOUND
from webhook.database import get_db
from webhook.storage.db import make_engine, upgrade, write_transaction
from webhook.storage.models import (
    Assignment,
    AssignmentRescore,
    Student,
    Submission,
    SubmissionCheck,
    utcnow,
)
from webhook.storage.queries import assignment_grades, grades_rescored

from .test_api import post
from .test_migrations import back_to

ASSIGNMENT = ["docker-101", "docker_beginners"]
RESCORE = ["assignment", "rescore", *ASSIGNMENT]


@pytest.fixture
def three(app: Flask, client: FlaskClient) -> Classroom:
    """ann passes every check (28), bob fails mydb.running (26), cy tweet.dockerfile (25)."""
    classroom = enrol(app.config["DATABASE_URL"], students=("ann", "bob", "cy"))
    for student, failing in (
        ("ann", ()),
        ("bob", ("mydb.running",)),
        ("cy", ("tweet.dockerfile",)),
    ):
        response = post(client, report_xml(failing=failing), classroom.bearer(student))
        assert response.status_code == 201, response.json
    return classroom


def new_version(runner: FlaskCliRunner, tmp_path: Path, check: str, points: int) -> None:
    """A rubric version where ``check`` is worth ``points``, through the CLI."""
    document = shipped_rubric().to_dict()
    for entry in document["checks"]:
        if entry["id"] == check:
            entry["points"] = points
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(args=["assignment", "rubric", *ASSIGNMENT, str(path)])
    assert result.exit_code == 0 and "rubric v2" in result.output, result.output


def stored(url: str) -> list[tuple[str, int, int, int]]:
    """(student, score, max score, rubric version) of every report, in order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    Student.student_id,
                    Submission.score,
                    Submission.max_score,
                    Submission.rubric_version,
                )
                .join(Student, Student.id == Submission.student_pk)
                .order_by(Submission.id)
            ).all()
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        engine.dispose()


def grades(app: Flask) -> dict[str, int | None]:
    with app.app_context(), get_db().session() as session:
        assignment = session.scalars(select(Assignment)).one()
        return {g.student.student_id: g.grade for g in assignment_grades(session, assignment)}


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "\t" in line]


@pytest.mark.parametrize(
    ("points", "changed", "counts"),
    [
        (5, ["ann\t28 → 30", "bob\t26 → 28"], "2 raised, 0 lowered, 1 unchanged"),
        (1, ["ann\t28 → 26", "bob\t26 → 24"], "0 raised, 2 lowered, 1 unchanged"),
    ],
)
def test_preview_then_apply_changes_exactly_the_students_whose_grade_changes(
    app: Flask,
    runner: FlaskCliRunner,
    three: Classroom,
    tmp_path: Path,
    points: int,
    changed: list[str],
    counts: str,
) -> None:
    url = three.url
    before = stored(url)
    assert before == [("ann", 28, 28, 1), ("bob", 26, 28, 1), ("cy", 25, 28, 1)]
    new_version(runner, tmp_path, "tweet.dockerfile", points)
    maximum = 28 - 3 + points

    preview = runner.invoke(args=RESCORE)
    assert preview.exit_code == 0, preview.output
    assert lines(preview.output) == changed
    assert f"rubric v1 → v2: 3 report(s) re-scored, 2 with another score; grades: {counts}" in (
        preview.output
    )
    assert "a preview; nothing changed" in preview.output
    assert stored(url) == before  # a preview writes nothing

    applied = runner.invoke(args=[*RESCORE, "--apply"])
    assert applied.exit_code == 0, applied.output
    assert lines(applied.output) == changed  # the preview's very list
    assert "applied; the changed grades are queued for the LMS" in applied.output
    new = {line.split("\t")[0]: int(line.split(" → ")[1]) for line in changed}
    assert stored(url) == [
        ("ann", new["ann"], maximum, 2),
        ("bob", new["bob"], maximum, 2),
        ("cy", 25, maximum, 2),
    ]
    assert grades(app) == {"ann": new["ann"], "bob": new["bob"], "cy": 25}
    after = stored(url)

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            checks = connection.execute(
                select(SubmissionCheck.status, SubmissionCheck.points, SubmissionCheck.max_points)
                .where(SubmissionCheck.check_id == "tweet.dockerfile")
                .order_by(SubmissionCheck.submission_id)
            ).all()
            [history] = connection.execute(select(AssignmentRescore)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in checks] == [
        ("passed", points, points), ("passed", points, points), ("failed", 0, points),
    ]  # fmt: skip
    row = history
    assert (row.done_by, row.from_versions, row.to_version) == ("assignment rescore", "1", 2)
    assert (row.reports, row.reports_changed, row.grades_changed, row.kept_old) == (3, 2, 2, 0)
    assert abs((utcnow() - row.done_at).total_seconds()) < 60

    again = runner.invoke(args=[*RESCORE, "--apply"])
    assert again.exit_code == 0
    assert again.output.strip() == (
        "docker-101/docker_beginners: nothing to rescore: every report is scored by rubric v2"
    )
    assert stored(url) == after  # changes nothing
    with app.app_context(), get_db().session() as session:
        assert len(session.scalars(select(AssignmentRescore)).all()) == 1


def test_the_preview_decides_both_grades_as_assignment_grades_does(
    app: Flask, runner: FlaskCliRunner, three: Classroom, tmp_path: Path
) -> None:
    """The preview reads the reports once for both grades (grades_rescored): the same
    decisions as assignment_grades, before and with the new scores, under a late penalty,
    an extension, an override and an excused student."""
    closed = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    for args in (
        ["set", *ASSIGNMENT, "--closes", closed, "--late-policy", "penalty:per-day=10%"],
        ["extend", *ASSIGNMENT, "ann", "--days", "5", "--note", "n", "--by", "x"],
        ["override", *ASSIGNMENT, "bob", "20", "--note", "n", "--by", "x"],
    ):
        done = runner.invoke(args=["assignment", *args])
        assert done.exit_code == 0, done.output
    excused = runner.invoke(args=["assignment", "excuse", *ASSIGNMENT, "cy", "--note", "n"])
    assert excused.exit_code == 0, excused.output
    new_version(runner, tmp_path, "mydb.running", 4)
    with app.app_context(), get_db().session() as session:
        assignment = session.scalars(select(Assignment)).one()
        made = rescore.plan(session, assignment)
        both = grades_rescored(session, assignment, made.scores)
        before = assignment_grades(session, assignment)
        after = assignment_grades(session, assignment, rescored=made.scores)
    assert [(s.student_id, b, a) for s, b, a in both] == [
        (old.student.student_id, old.decision, new.decision)
        for old, new in zip(before, after, strict=True)
    ]
    decided = {s.student_id: (b.grade, a.grade, a.marks) for s, b, a in both}
    assert decided == {
        "ann": (28, 30, ("extended",)),  # on time by her extension: in full
        "bob": (20, 20, ("late", "overridden")),
        "cy": (None, None, ("late", "excused")),
    }
    assert [(c.student_id, c.old, c.new) for c in made.changes] == [("ann", 28, 30)]


def test_a_new_report_records_the_version_that_scored_it(
    client: FlaskClient, runner: FlaskCliRunner, three: Classroom, tmp_path: Path
) -> None:
    new_version(runner, tmp_path, "tweet.dockerfile", 5)
    response = post(client, report_xml(), three.bearer("ann"))
    assert response.status_code == 201 and response.json["score"] == 30
    assert stored(three.url)[-1] == ("ann", 30, 30, 2)
    preview = runner.invoke(args=RESCORE)  # the three older ones still to re-score
    assert "3 report(s) re-scored" in preview.output
    assert lines(preview.output) == ["bob\t26 → 28"]  # ann's 30 was her grade already


def test_reports_without_check_rows_keep_their_score_and_are_counted(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, three: Classroom, tmp_path: Path
) -> None:
    """As when a report falls out of a student's latest 50 (storage bounds)."""
    late = post(client, report_xml(failing=("mydb.running",)), three.bearer("cy"))
    assert late.status_code == 201
    engine = make_engine(three.url)
    try:
        with engine.begin() as connection:
            cy_first = connection.scalars(
                select(Submission.id)
                .join(Student, Student.id == Submission.student_pk)
                .where(Student.student_id == "cy")
                .order_by(Submission.id)
            ).first()
            connection.execute(
                update(Submission)
                .where(Submission.id == cy_first)
                .values(raw_xml="", raw_dropped_at=utcnow())
            )
            connection.execute(
                delete(SubmissionCheck).where(SubmissionCheck.submission_id == cy_first)
            )
    finally:
        engine.dispose()
    new_version(runner, tmp_path, "tweet.dockerfile", 5)
    preview = runner.invoke(args=RESCORE)
    assert "1 older report(s) keep their score (their check rows were dropped)" in preview.output
    assert lines(preview.output) == ["ann\t28 → 30", "bob\t26 → 28", "cy\t26 → 28"]
    applied = runner.invoke(args=[*RESCORE, "--apply"])
    assert applied.exit_code == 0
    assert [row for row in stored(three.url) if row[0] == "cy"] == [
        ("cy", 25, 28, 1),  # kept: its old score, its old version
        ("cy", 28, 30, 2),
    ]
    again = runner.invoke(args=[*RESCORE, "--apply"])
    assert "nothing to rescore" in again.output and "1 older report(s) keep" in again.output


def test_unknown_course_or_assignment_is_one_line_exit_3(
    runner: FlaskCliRunner, classroom: Classroom
) -> None:
    for args, said in (
        (["assignment", "rescore", "nocourse", "x"], "no course 'nocourse'"),
        (["assignment", "rescore", "docker-101", "nope"], "course docker-101 has no assignment"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == EXIT_NOT_FOUND, result.output
        assert said in result.output and len(result.output.strip().splitlines()) == 1


def test_nothing_to_rescore_is_said_and_exits_0(runner: FlaskCliRunner, three: Classroom) -> None:
    result = runner.invoke(args=[*RESCORE, "--apply"])
    assert result.exit_code == 0
    assert result.output.strip().endswith("nothing to rescore: every report is scored by rubric v1")


def test_a_failure_inside_apply_rolls_everything_back(
    app: Flask, runner: FlaskCliRunner, three: Classroom, tmp_path: Path
) -> None:
    """One transaction: a listener that fails (after the scores are written) leaves the
    scores, the versions and the history as they were."""
    new_version(runner, tmp_path, "tweet.dockerfile", 5)
    before = stored(three.url)

    def broken(_connection: Connection, _student_pk: int) -> None:
        raise RuntimeError("the outbox is broken")

    grade_events.add_listener(app, broken)
    result = runner.invoke(args=[*RESCORE, "--apply"])
    assert result.exit_code != 0
    assert stored(three.url) == before
    app.extensions[grade_events.EXTENSION].remove(broken)
    assert runner.invoke(args=[*RESCORE, "--apply"]).exit_code == 0
    assert [row[1] for row in stored(three.url)] == [30, 28, 25]


# --- PostgreSQL: two applies at once ----------------------------------------------------------


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    app = create_app(app_config(pg_url))
    yield app
    app.extensions["grader_db"].dispose()


def test_two_applies_at_once_rescore_once_on_postgresql(pg_app: Flask, tmp_path: Path) -> None:
    """The assignment's row is locked: the second waits, then finds nothing left."""
    client, runner = pg_app.test_client(), pg_app.test_cli_runner()
    classroom = enrol(pg_app.config["DATABASE_URL"], students=("ann", "bob"))
    for student in ("ann", "bob"):
        assert post(client, report_xml(), classroom.bearer(student)).status_code == 201
    new_version(runner, tmp_path, "tweet.dockerfile", 5)
    with pg_app.app_context(), get_db().session() as session:
        assignment_id = session.scalars(select(Assignment.id)).one()
    told: list[int] = []
    grade_events.add_listener(pg_app, lambda _c, pk: told.append(pk))
    results: list[rescore.Applied | None] = []
    start = threading.Barrier(2)

    def one() -> None:
        with pg_app.app_context():
            start.wait()
            with write_transaction(get_db().engine) as connection:
                results.append(rescore.apply(connection, assignment_id, by="test"))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(len(r.plan.scores) for r in results if r is not None) == [0, 2]
    assert len(told) == 2  # each changed student told once
    assert [row[1:] for row in stored(classroom.url)] == [(30, 30, 2), (30, 30, 2)]
    engine = make_engine(classroom.url)
    try:
        with engine.connect() as connection:
            assert len(connection.execute(select(AssignmentRescore)).all()) == 1
    finally:
        engine.dispose()


def test_the_migration_records_the_version_each_stored_report_was_scored_by(
    sqlite_url: str,
) -> None:
    """Ingest scored from the newest version: the one made last before the report arrived."""
    back_to(sqlite_url, "0013")
    t0 = utcnow() - timedelta(days=3)
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO course (id, slug, name, created_at) VALUES (1, 'c', 'C', :t);"
            ), {"t": t0})  # fmt: skip
            connection.execute(text(
                "INSERT INTO student (id, course_id, student_id, name, email, token_hash,"
                " created_at) VALUES (1, 1, 'ann', 'Ann', '', 'h', :t)"
            ), {"t": t0})  # fmt: skip
            connection.execute(text(
                "INSERT INTO assignment (id, course_id, slug, lab, title, created_at,"
                " grade_policy) VALUES (1, 1, 'a', 'docker_beginners', 'A', :t, 'self')"
            ), {"t": t0})  # fmt: skip
            for version, days in ((1, 0), (2, 1)):
                connection.execute(text(
                    "INSERT INTO assignment_rubric (assignment_id, version, rubric, created_at,"
                    " created_by) VALUES (1, :v, '{}', :t, 'x')"
                ), {"v": version, "t": t0 + timedelta(days=days, hours=1)})  # fmt: skip
            for pk, hours in ((1, 0), (2, 2), (3, 26)):  # before v1, after v1, after v2
                connection.execute(text(
                    "INSERT INTO submission (id, report_id, student_pk, course_id, assignment_id,"
                    " received_at, created, lab, score, max_score, checks_digest, grader_version,"
                    " engine_id, raw_xml, flagged, flag_reason, via) VALUES (:pk, :pk, 1, 1, 1,"
                    " :t, :t, 'docker_beginners', 1, 1, 'd', 'v', 'e', '', 0, '', 'token')"
                ), {"pk": pk, "t": t0 + timedelta(hours=hours)})  # fmt: skip
    finally:
        engine.dispose()
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            versions = connection.scalars(
                select(Submission.rubric_version).order_by(Submission.id)
            ).all()
    finally:
        engine.dispose()
    assert versions == [1, 1, 2]
