"""Issue 19: a report is filed under its course's assignment of its lab, scored from that
assignment's newest rubric; a lab the course has no assignment of is refused (404).

Through the real app on SQLite and PostgreSQL; the student's side against gunicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from devlab.server.enrolment import Classroom, enrol, migrated_sqlite
from devlab.server.reports import DIGEST, VERSION, make_report, report_xml
from devlab.server.services import Gunicorn
from grader.report.submit import Reply, decide, submit_report, waiting, waiting_assignment
from submissions.dialect import CheckResult, Report
from submissions.rubric import Rubric, RubricEntry, shipped_rubric
from webhook.storage.assignments import add_assignment, add_rubric_version
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Assignment, Course, Submission

from .test_api import count, post
from .test_http import server_env

TINY = Rubric(
    lab="tiny",
    entries=(RubricEntry("motd.hello", "task1", "says hello", 3),),
    known_digests=frozenset({DIGEST}),
    known_versions=frozenset({VERSION}),
)


def tiny_report() -> Report:
    report = make_report()
    hello = CheckResult(
        id="motd.hello", task="task1", title="says hello", status="passed", points=3,
        max_points=3, message="", hint="", evidence=(),
    )  # fmt: skip
    return replace(report, lab="tiny", results=(hello,))


def add(url: str, rubric: Rubric, slug: str, **values: object) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            course = session.scalars(select(Course)).one()
            add_assignment(session, course, rubric, slug=slug, **values)  # type: ignore[arg-type]
            session.commit()
    finally:
        engine.dispose()


def filed(url: str) -> list[tuple[str, str, int, int]]:
    """(report's lab, assignment's slug, score, max score) of every stored report, in order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Submission.lab, Assignment.slug, Submission.score, Submission.max_score)
                .join(Assignment, Assignment.id == Submission.assignment_id)
                .order_by(Submission.id)
            ).all()
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        engine.dispose()


def test_each_report_is_filed_under_its_labs_assignment_and_scored_by_its_rubric(
    client: FlaskClient, classroom: Classroom
) -> None:
    add(classroom.url, TINY, "motd")
    docker = post(client, report_xml(), classroom.bearer("ann"))
    tiny = post(client, report_xml(tiny_report()), classroom.bearer("ann"))
    assert (docker.status_code, tiny.status_code) == (201, 201), tiny.json
    assert (tiny.json["score"], tiny.json["max_score"]) == (3, 3)
    assert "not_our_checks" not in tiny.json["flags"]  # its lab, its checks: the rubric's
    assert filed(classroom.url) == [
        ("docker_beginners", "docker_beginners", 28, 28),
        ("tiny", "motd", 3, 3),
    ]


def test_a_lab_the_course_has_no_assignment_of_is_a_404_naming_course_and_lab(
    client: FlaskClient, classroom: Classroom
) -> None:
    response = post(client, report_xml(tiny_report()), classroom.bearer("ann"))
    assert response.status_code == 404
    assert response.json["error"] == "no_assignment"
    reason = response.json["reason"]
    assert "\n" not in reason
    assert "course docker-101 has no assignment of lab 'tiny'" in reason
    assert "grade-server assignment create docker-101 SLUG --lab tiny" in reason
    assert count(classroom.url, Submission) == 0


def test_two_assignments_of_one_lab_need_the_report_to_name_one(
    client: FlaskClient, classroom: Classroom
) -> None:
    add(classroom.url, shipped_rubric(), "retake", title="The retake")
    unnamed = post(client, report_xml(), classroom.bearer("ann"))
    assert unnamed.status_code == 404
    assert "send with --assignment SLUG, one of docker_beginners, retake" in unnamed.json["reason"]
    unknown = post(client, report_xml(), {**classroom.bearer("ann"), "X-Grader-Assignment": "nope"})
    assert unknown.status_code == 404
    assert "no assignment 'nope' of lab 'docker_beginners'" in unknown.json["reason"]
    assert count(classroom.url, Submission) == 0
    named = post(client, report_xml(), {**classroom.bearer("ann"), "X-Grader-Assignment": "retake"})
    assert named.status_code == 201
    assert filed(classroom.url) == [("docker_beginners", "retake", 28, 28)]


def test_a_new_rubric_version_scores_the_next_reports_the_old_ones_stay(
    client: FlaskClient, classroom: Classroom
) -> None:
    before = post(client, report_xml(), classroom.bearer("ann"))
    shipped = shipped_rubric()
    doubled = replace(
        shipped, entries=tuple(replace(e, points=e.points * 2) for e in shipped.entries)
    )
    engine = make_engine(classroom.url)
    try:
        with make_session_factory(engine)() as session:
            assignment = session.scalars(select(Assignment)).one()
            assert add_rubric_version(session, assignment, doubled).version == 2
            session.commit()
    finally:
        engine.dispose()
    after = post(client, report_xml(), classroom.bearer("bob"))
    assert (before.json["score"], after.json["score"]) == (28, 56)
    assert [row[2:] for row in filed(classroom.url)] == [(28, 28), (56, 56)]


def test_a_report_before_the_assignment_opens_is_flagged_by_its_own_dates(
    client: FlaskClient, classroom: Classroom
) -> None:
    add(classroom.url, TINY, "motd", opens_at=datetime.now(UTC) + timedelta(days=1))
    early = post(client, report_xml(tiny_report()), classroom.bearer("ann"))
    docker = post(client, report_xml(), classroom.bearer("ann"))
    assert "before_opening" in early.json["flags"]
    assert docker.json["flags"] == []  # the course's other assignment has no opening date


# --- The student's side: what `grade --submit` does with the answer ----------------------------


def test_no_assignment_keeps_the_report_and_sending_goes_on() -> None:
    said = "course c has no assignment of lab 'tiny': ask your instructor to add one"
    kept = decide(Reply(404, {"error": "no_assignment", "reason": said}), "http://s")
    assert (kept.action, kept.state) == ("keep", "rejected")
    assert said in kept.message and "waits in the outbox" in kept.message
    assert decide(Reply(404, {"error": "not_found"}), "http://s").action == "retry"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Classroom]]:
    root = tmp_path / "server"
    root.mkdir()
    url = migrated_sqlite(root / "grader.sqlite")
    classroom = enrol(url)
    with Gunicorn(server_env(url), workers=2, log=root / "g.log") as server:
        yield server.url, classroom


def test_over_http_a_report_without_an_assignment_waits_and_goes_once_one_exists(
    live: tuple[str, Classroom], tmp_path: Path
) -> None:
    url, classroom = live
    outbox = tmp_path / "outbox"
    token = classroom.tokens["ann"]
    tiny = tiny_report()
    refused = submit_report(report_xml(tiny), tiny.report_id, url=url, token=token, outbox=outbox)
    assert refused.state == "rejected"
    assert "ask your instructor to add one" in refused.message
    assert "grade-server assignment create docker-101 SLUG --lab tiny" in refused.message
    assert [p.name.endswith(f"-{tiny.report_id}.xml") for p in waiting(outbox)] == [True]
    docker = make_report()  # the next report is sent all the same; the tiny one still waits
    sent = submit_report(report_xml(docker), docker.report_id, url=url, token=token, outbox=outbox)
    assert sent.ok, sent.message
    assert [d.report_id for d in sent.delivered] == [docker.report_id]
    assert len(waiting(outbox)) == 1
    add(classroom.url, TINY, "motd")
    again = make_report()
    last = submit_report(report_xml(again), again.report_id, url=url, token=token, outbox=outbox)
    assert last.ok and waiting(outbox) == []
    assert [d.report_id for d in last.delivered] == [tiny.report_id, again.report_id]


def test_over_http_the_outbox_keeps_the_named_assignment_with_the_report(
    live: tuple[str, Classroom], tmp_path: Path
) -> None:
    url, classroom = live
    outbox = tmp_path / "outbox"
    token = classroom.tokens["bob"]
    report = tiny_report()
    dead = "http://127.0.0.1:9"  # nothing listens: the report waits, with its assignment
    queued = submit_report(
        report_xml(report), report.report_id, url=dead, token=token, outbox=outbox,
        assignment="motd",
    )  # fmt: skip
    assert queued.state == "queued"
    (path,) = waiting(outbox)
    assert waiting_assignment(path) == "motd"
    add(classroom.url, TINY, "motd")
    later = make_report()
    done = submit_report(report_xml(later), later.report_id, url=url, token=token, outbox=outbox)
    assert done.ok, done.message
    assert outbox.is_dir() and list(outbox.iterdir()) == []
    rows = filed(classroom.url)
    assert ("tiny", "motd", 3, 3) in rows
