"""Verified reports (issue 8, part 3): an instructor's API token sends a report for a named
student of a course they teach; the two kinds of token never stand in for each other; the
course's grade policy decides what the exports count.

Over real HTTP against gunicorn on SQLite and PostgreSQL; the tokens, the instructors and
the courses are made with ``grade-server`` itself (Flask's CLI runner on the same database).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from devlab.server.enrolment import Classroom, app_config, enrol, migrated_sqlite
from devlab.server.reports import Lab, report_xml
from devlab.server.services import Gunicorn, Postgres
from submissions.scoring import GradePolicy, StoredReport, course_grade
from webhook import create_app
from webhook.storage.db import make_engine, upgrade
from webhook.storage.models import Submission

from .test_api import count
from .test_crosscheck import instructor as basic_auth
from .test_http import server_env

XML = {"Content-Type": "application/xml"}
STUDENT = "X-Grader-Student"
#: Checks whose failing costs exactly these points (the shipped rubric).
MINUS_8 = ("tweet.dockerfile", "tweet.image", "tweet.published", "mydb.version")
MINUS_4 = ("tweet.serves", "figlet.runs")


def cli(app: Flask, *args: str, stdin: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


@dataclass(frozen=True)
class Verifying:
    server: Gunicorn
    app: Flask  # for grade-server commands on the same database
    classroom: Classroom  # docker-101: ann, bob (student tokens)
    ta: str  # the API token of "ta", who teaches docker-101
    stranger: str  # the API token of "stranger", who teaches only other-101

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        url = self.server.url + "/api/v1/submissions"
        return requests.post(url, data=body, headers={**XML, **headers}, timeout=10)

    def verified(self, token: str, student: str, body: bytes) -> requests.Response:
        return self.post(body, {"Authorization": f"Bearer {token}", STUDENT: student})

    def shown(self, submission_id: int) -> dict[str, object]:
        url = f"{self.server.url}/api/v1/submissions/{submission_id}"
        response = requests.get(url, headers=basic_auth(self.classroom), timeout=5)
        assert response.status_code == 200, response.text
        data: dict[str, object] = response.json()
        return data


def issue_token(app: Flask, user: str) -> str:
    issued = cli(app, "instructor", "token", user)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("gli_") and "\n" not in token
    assert token not in issued.stderr  # shown once, on stdout only
    return token


def set_up(url: str) -> tuple[Flask, Classroom, str, str]:
    classroom = enrol(url)
    app = create_app(app_config(url))
    for user in ("ta", "stranger"):
        made = cli(app, "instructor", "create", user, "--password-stdin", stdin="longenough\n")
        assert made.exit_code == 0, made.output
    assert cli(app, "course", "add-instructor", classroom.course, "ta").exit_code == 0
    other = cli(app, "course", "create", "other-101", "Other", "--instructor", "stranger")
    assert other.exit_code == 0, other.output
    enrolled = cli(app, "roster", "enrol", "other-101", "-", stdin="student_id\ncarl\n")
    assert enrolled.exit_code == 0, enrolled.output
    return app, classroom, issue_token(app, "ta"), issue_token(app, "stranger")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def verifying(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Verifying]:
    root = tmp_path_factory.mktemp(f"verified-{request.param}")
    if request.param == "sqlite":
        url = migrated_sqlite(root / "grader.sqlite")
    else:
        pg: Postgres = request.getfixturevalue("pg_server")
        url = pg.create_database(f"verified_{int(time.time() * 1000)}")
        upgrade(url)
    app, classroom, ta, stranger = set_up(url)
    try:
        with Gunicorn(server_env(url), workers=2, log=root / "gunicorn.log") as server:
            yield Verifying(server, app, classroom, ta, stranger)
    finally:
        app.extensions["grader_db"].dispose()


def test_a_verified_report_lands_under_the_student_it_names(verifying: Verifying) -> None:
    host = Lab()
    response = verifying.verified(verifying.ta, "docker-101/bob", report_xml(host=host))
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "verified" and response.json()["score"] == 28
    shown = verifying.shown(response.json()["id"])
    assert (shown["student_id"], shown["course"]) == ("bob", "docker-101")
    assert (shown["source"], shown["verified_by"], shown["via"]) == ("verified", "ta", "instructor")
    assert shown["flags"] == []  # bob's own report of the same machine is no flag: one student
    mine = verifying.post(report_xml(host=host), verifying.classroom.bearer("bob"))
    assert mine.status_code == 201 and mine.json()["source"] == "self"
    assert mine.json()["flags"] == []
    # Sent again (the client's outbox), it is the same submission.
    again = verifying.verified(verifying.ta, "docker-101/bob", report_xml(host=host))
    assert again.status_code == 201  # a new run: a new report id
    body = report_xml(host=host)
    first = verifying.verified(verifying.ta, "docker-101/bob", body)
    repeat = verifying.verified(verifying.ta, "docker-101/bob", body)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]


def test_a_student_outside_the_instructors_courses_is_refused(verifying: Verifying) -> None:
    before = count(verifying.classroom.url)
    for token, student, says in (
        (verifying.ta, "other-101/carl", "not one of ta's courses"),  # exists, not ta's
        (verifying.ta, "no-such-course/carl", "not one of ta's courses"),  # same answer
        (verifying.stranger, "docker-101/ann", "not one of stranger's courses"),
        (verifying.ta, "docker-101/nobody", "no student 'nobody' is enrolled in docker-101"),
    ):
        refused = verifying.verified(token, student, report_xml())
        assert refused.status_code == 403, (student, refused.text)
        assert says in refused.json()["reason"], refused.json()
    assert count(verifying.classroom.url) == before
    # ... and the stranger's own course takes theirs.
    assert verifying.verified(verifying.stranger, "other-101/carl", report_xml()).status_code == 201


def test_tokens_cannot_stand_in_for_each_other(verifying: Verifying) -> None:
    ann = verifying.classroom.bearer("ann")
    ta = {"Authorization": f"Bearer {verifying.ta}"}
    before = count(verifying.classroom.url)

    # A student's token naming a student (themselves or another) is not a verified report.
    for student in ("docker-101/bob", "docker-101/ann"):
        refused = verifying.post(report_xml(), {**ann, STUDENT: student})
        assert refused.status_code == 403, refused.text
        assert "student's token cannot name a student" in refused.json()["reason"]
    # An instructor's token naming no one is not a student's report.
    unnamed = verifying.post(report_xml(), ta)
    assert unnamed.status_code == 400 and unnamed.json()["error"] == "student_required"
    assert "X-Grader-Student: <course>/<student id>" in unnamed.json()["reason"]
    for bad in ("docker-101", "/ann", "docker-101/", ""):
        malformed = verifying.post(report_xml(), {**ta, STUDENT: bad})
        assert malformed.status_code == 400, (bad, malformed.text)
    assert count(verifying.classroom.url) == before

    # An instructor's token does not read as a student (nor as an instructor's login).
    mine = verifying.post(report_xml(), ann)
    assert mine.status_code == 201
    url = f"{verifying.server.url}/api/v1/submissions/{mine.json()['id']}"
    read = requests.get(url, headers=ta, timeout=5)
    assert read.status_code == 403 and "only sends reports" in read.json()["reason"]
    basic = requests.get(url, auth=("ta", verifying.ta), timeout=5)
    assert basic.status_code == 401


def test_a_new_instructor_token_replaces_the_old(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    app, _, old, _ = set_up(url)
    try:
        new = issue_token(app, "ta")
        client = app.test_client()
        for token, status in ((old, 401), (new, 201)):
            response = client.post(
                "/api/v1/submissions",
                data=report_xml(),
                headers={**XML, "Authorization": f"Bearer {token}", STUDENT: "docker-101/ann"},
            )
            assert response.status_code == status, response.json
    finally:
        app.extensions["grader_db"].dispose()


def test_verified_reports_are_cross_checked_and_counted_apart(tmp_path: Path) -> None:
    """The same ingest: a verified report of a machine another student's report names
    flags that report (the verified one goes first); and an instructor's reports for a
    student have their own rate count."""
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    classroom = enrol(url)
    app = create_app(app_config(url, RATE_LIMIT="2/hour"))
    try:
        assert (
            cli(app, "instructor", "create", "ta", "--password-stdin", stdin="x" * 8).exit_code == 0
        )
        assert cli(app, "course", "add-instructor", "docker-101", "ta").exit_code == 0
        ta = {"Authorization": f"Bearer {issue_token(app, 'ta')}"}
        client = app.test_client()

        def send(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
            response = client.post("/api/v1/submissions", data=body, headers={**XML, **headers})
            return response.status_code, response.json or {}

        annes = Lab()
        status, annes_report = send(report_xml(host=annes), classroom.bearer("ann"))
        assert status == 201
        assert send(report_xml(), classroom.bearer("ann"))[0] == 201
        assert send(report_xml(), classroom.bearer("ann"))[0] == 429  # her own budget is spent
        status, stored = send(report_xml(host=annes), {**ta, STUDENT: "docker-101/bob"})
        assert status == 201  # bob's verified budget is his, and not ann's
        # ann's machine, verified as bob's: the verified report goes first, and ann's
        # self-reported one is the later, flagged naming bob
        assert stored["flags"] == []
        first = client.get(
            f"/api/v1/submissions/{annes_report['id']}", headers=basic_auth(classroom)
        )
        assert {(f["kind"], f["other_student"]) for f in first.json["flags"]} == {
            ("shared_evidence", "bob")
        }
        assert send(report_xml(), {**ta, STUDENT: "docker-101/ann"})[0] == 201
        assert send(report_xml(), {**ta, STUDENT: "docker-101/ann"})[0] == 201
        assert send(report_xml(), {**ta, STUDENT: "docker-101/ann"})[0] == 429
    finally:
        app.extensions["grader_db"].dispose()


# --- The grade policies on a concrete roster -----------------------------------------------

#: roster id → (self-reported scores, verified scores), sent in this order.
ROSTER = {
    "ann": ((28,), (20,)),  # claims more than the instructor found
    "bob": ((20,), (28,)),  # did more since
    "cy": ((26,), ()),  # never verified
    "dee": ((), (24,)),  # only verified
    "eve": ((), ()),  # nothing
}
FAILING = {28: (), 26: ("mydb.running",), 24: MINUS_4, 20: MINUS_8}
#: The exports' grade per policy ("" : nothing counts).
EXPECTED = {
    "self": {"ann": "28", "bob": "20", "cy": "26", "dee": "", "eve": ""},
    "verified": {"ann": "20", "bob": "28", "cy": "", "dee": "24", "eve": ""},
    "verified-else-self": {"ann": "20", "bob": "28", "cy": "26", "dee": "24", "eve": ""},
}


def moodle_grades(app: Flask, course: str) -> dict[str, str]:
    exported = cli(app, "grades", "export", course, "--format", "moodle")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    return {row[0]: row[-1] for row in rows[1:]}


def test_each_grade_policy_on_a_concrete_roster(verifying: Verifying) -> None:
    app = verifying.app
    roster = "student_id,name\n" + "".join(f"{who},{who.title()} X\n" for who in ROSTER)
    assert cli(app, "course", "create", "policy-101", "Policy", "--instructor", "ta").exit_code == 0
    enrolled = cli(app, "roster", "enrol", "policy-101", "-", stdin=roster)
    tokens = dict(list(csv.reader(io.StringIO(enrolled.stdout)))[1:])
    for who, (own, verified) in ROSTER.items():
        host = Lab()
        for score in own:
            body = report_xml(host=host, failing=FAILING[score])
            sent = verifying.post(body, {"Authorization": f"Bearer {tokens[who]}"})
            assert sent.status_code == 201 and sent.json()["score"] == score, sent.text
        for score in verified:
            body = report_xml(host=host, failing=FAILING[score])
            sent = verifying.verified(verifying.ta, f"policy-101/{who}", body)
            assert sent.status_code == 201 and sent.json()["score"] == score, sent.text
            assert sent.json()["flags"] == []

    # The default, verified-else-self, and each policy set on the course.
    assert moodle_grades(app, "policy-101") == EXPECTED["verified-else-self"]
    for policy, expected in EXPECTED.items():
        changed = cli(app, "course", "set", "policy-101", "--grade-policy", policy)
        assert changed.exit_code == 0 and f"grade policy {policy}" in changed.output
        assert moodle_grades(app, "policy-101") == expected, policy
        web = requests.get(
            f"{verifying.server.url}/gradebook/policy-101/export.csv?format=moodle",
            headers=basic_auth(verifying.classroom),
            timeout=5,
        )
        rows = list(csv.reader(io.StringIO(web.text)))
        assert {row[0]: row[-1] for row in rows[1:]} == expected, policy


def test_a_rejected_verified_report_falls_back_and_an_open_flag_withholds() -> None:
    """Under verified-else-self a verified report with an open flag holds the grade back
    (no falling back to the student's own, higher word); once rejected, it is as if unsent."""
    now = datetime.now(UTC)
    own = StoredReport(1, 28, now, False, False, "self")
    flagged = StoredReport(2, 20, now, True, False, "verified")
    rejected = StoredReport(2, 20, now, True, True, "verified")
    policy = GradePolicy(sources="verified-else-self")
    assert course_grade([own, flagged], policy) is None
    assert course_grade([own, flagged], GradePolicy(sources="verified-else-self",
                                                    include_flagged=True)) == 20  # fmt: skip
    assert course_grade([own, rejected], policy) == 28
    assert course_grade([own, rejected], GradePolicy(sources="verified")) is None
    assert course_grade([own, flagged], GradePolicy(sources="self")) == 28


# --- The commands ---------------------------------------------------------------------------


def test_bad_input_to_the_new_commands_is_one_line_and_its_exit_code(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    app, *_ = set_up(url)
    try:
        for args, code, says in (
            (("instructor", "token", "nobody"), 3, "no instructor 'nobody'"),
            (("course", "add-instructor", "nope", "ta"), 3, "no course 'nope'"),
            (("course", "add-instructor", "docker-101", "nobody"), 3, "no instructor 'nobody'"),
            (("course", "remove-instructor", "docker-101", "nobody"), 3, "no instructor"),
            (("course", "create", "x-1", "X", "--instructor", "nobody"), 3, "no instructor"),
            (("course", "create", "x-1", "X", "--grade-policy", "best"), 8, "--grade-policy"),
            (("course", "set", "docker-101", "--grade-policy", "teacher"), 8, "must be one of"),
            (("course", "set", "nope", "--grade-policy", "self"), 3, "no course 'nope'"),
        ):
            result = cli(app, *args)
            assert result.exit_code == code, (args, result.output)
            assert says in result.output and result.output.count("\n") == 1, result.output
            assert "Traceback" not in result.output
        assert cli(app, "course", "list").exit_code == 2  # no such verb: Click's usage error
        # A course refused for an unknown instructor is not half made.
        assert cli(app, "course", "set", "x-1", "--name", "Y").exit_code == 3
        # Adding twice is fine; removing stops the instructor's reports.
        again = cli(app, "course", "add-instructor", "docker-101", "ta")
        assert again.exit_code == 0 and "already teaches" in again.output
        assert cli(app, "course", "remove-instructor", "docker-101", "ta").exit_code == 0
        token = issue_token(app, "ta")
        refused = app.test_client().post(
            "/api/v1/submissions",
            data=report_xml(),
            headers={**XML, "Authorization": f"Bearer {token}", STUDENT: "docker-101/ann"},
        )
        assert refused.status_code == 403
    finally:
        app.extensions["grader_db"].dispose()


def test_stored_sources_in_the_database(verifying: Verifying) -> None:
    """Every row says its source: students' own (token or signed) ``self``, the TA's
    ``verified`` with their name."""
    sent = verifying.verified(verifying.ta, "docker-101/ann", report_xml())
    assert sent.status_code == 201, sent.text
    engine = make_engine(verifying.classroom.url)
    try:
        with engine.connect() as connection:
            rows = set(
                connection.execute(
                    select(Submission.via, Submission.source, Submission.verified_by)
                ).all()
            )
    finally:
        engine.dispose()
    assert rows <= {("token", "self", ""), ("signed", "self", ""), ("instructor", "verified", "ta"),
                    ("instructor", "verified", "stranger")}  # fmt: skip
    assert ("instructor", "verified", "ta") in rows
