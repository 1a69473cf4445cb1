"""A shared engine (cloned lab VMs, or collusion) must not blow up (issue 20, item 6).

40 students on one engine id made a flag row per later report, each listed on one flags
page of every flag in the course, and each report's cross-check read every report naming
the engine. Now a shared piece of evidence is one flag group listing its students (the
first who showed it marked, still counting, item 4): one flag per later report, the flags
page lists the group once, 50 entries a page, and a group is decided at once.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from devlab.server.enrolment import Classroom, app_config, enrol, migrated_sqlite
from devlab.server.reports import Lab, hand_typed, report_xml
from devlab.server.seeded import csrf_from
from webhook import create_app
from webhook.storage.db import make_engine
from webhook.storage.models import Flag

from .test_api import post
from .test_crosscheck import exported, flags_of, shown
from .test_verified import STUDENT, cli, issue_token

STUDENTS = 40


def shared_engine_class(
    tmp_path: Path, students: int = STUDENTS, reports: int = 2
) -> tuple[Flask, Classroom]:
    """``students`` students on one engine id, each sending ``reports`` reports in turns."""
    roster = tuple(f"s{n:03}" for n in range(students))
    classroom = enrol(migrated_sqlite(tmp_path / "shared.sqlite"), roster)
    app = create_app(app_config(classroom.url, RATE_LIMIT="0/minute"))
    client = app.test_client()
    engine_id = Lab().engine_id  # one cloned VM image: every student's engine has its id
    hosts = {student: replace(Lab(), engine_id=engine_id) for student in roster}  # own objects
    for _ in range(reports):
        for student in roster:
            response = post(client, report_xml(host=hosts[student]), classroom.bearer(student))
            assert response.status_code == 201, response.json
            # the first to show the engine keeps counting, even sending again later (item 4)
            assert response.json["flags"] == ([] if student == roster[0] else ["shared_evidence"])
    return app, classroom


def flag_table(url: str) -> list[tuple[int | None, int | None, str]]:
    """Every flag row: (its report, its group, its status)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = select(Flag.submission_id, Flag.group_id, Flag.status).order_by(Flag.id)
            return [(sub, group, status) for sub, group, status in connection.execute(query)]
    finally:
        engine.dispose()


def login(classroom: Classroom) -> dict[str, str]:
    user, password = classroom.instructor
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_forty_students_on_one_engine_are_one_group_and_the_first_keeps_counting(
    tmp_path: Path,
) -> None:
    app, classroom = shared_engine_class(tmp_path)
    client = app.test_client()
    later_reports = (STUDENTS - 1) * 2
    for run in ("at ingest", "after course recheck"):
        # The flags page lists the one group with its 40 students, the first marked; small.
        page = client.get(f"/gradebook/{classroom.course}/flags", headers=login(classroom))
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        print(f"{run}: flags page {len(page.data)} bytes")
        assert len(page.data) < 40_000, len(page.data)
        assert text.count("data-group=") == 1 and "data-flag=" not in text
        assert all(f">s{n:03}</a>" in text for n in range(STUDENTS))
        assert '<li class="first"><a href="/gradebook/docker-101/students/s000">' in text
        assert f"{later_reports} reports" in text and "40 students&#39; reports name" in text
        rows = flag_table(classroom.url)
        print(f"{run}: {len(rows)} flag rows for {STUDENTS} students x 2 reports on one engine")
        assert len(rows) == later_reports  # one per later report, none for the first's
        assert len({sub for sub, _, _ in rows}) == later_reports  # at most one a report
        assert len({group for _, group, _ in rows}) == 1 and rows[0][1] is not None
        grades = exported(app, classroom)
        assert grades["s000"] == ("28", "")  # the first student's grade is intact
        assert grades["s001"] == ("", "shared evidence with s000 (2 reports)")
        recheck = app.test_cli_runner().invoke(args=["course", "recheck", classroom.course])
        assert recheck.exit_code == 0, recheck.output


def flag_statuses(url: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for _, _, status in flag_table(url):
        found[status] = found.get(status, 0) + 1
    return found


def test_a_group_is_decided_at_once_and_each_report_on_its_own(tmp_path: Path) -> None:
    app, classroom = shared_engine_class(tmp_path, students=7, reports=1)
    client = app.test_client()
    url, course, headers = classroom.url, classroom.course, login(classroom)
    page = client.get(f"/gradebook/{course}/flags", headers=headers).get_data(as_text=True)
    group = int(re.findall(r'data-group="(\d+)"', page)[0])
    # Report by report: the group's page lists its six flags, each with its own form.
    listed = client.get(f"/gradebook/{course}/flags?group={group}", headers=headers)
    flags = [int(n) for n in re.findall(r'data-flag="(\d+)"', listed.get_data(as_text=True))]
    assert len(flags) == 6
    token = csrf_from(page)
    one = client.post(f"/gradebook/{course}/flags/{flags[0]}", headers=headers,
                      data={"action": "reject", "note": "copied", "csrf_token": token})  # fmt: skip
    assert one.status_code == 302
    assert flag_statuses(url) == {"open": 5, "rejected": 1}
    # The rest at once: accepted (the one rejected keeps its decision); their grades count.
    form = {"action": "accept", "note": "one lab VM", "csrf_token": token}
    every = client.post(f"/gradebook/{course}/flags/groups/{group}", headers=headers, data=form)
    assert every.status_code == 302, every.get_data(as_text=True)
    assert flag_statuses(url) == {"accepted": 5, "rejected": 1}
    grades = exported(app, classroom)
    assert [grades[f"s{n:03}"][0] for n in range(7)].count("28") == 6  # all but the rejected
    missing = client.post(f"/gradebook/{course}/flags/groups/{group + 99}", headers=headers,
                          data={"action": "accept", "csrf_token": token})  # fmt: skip
    assert missing.status_code == 404
    bad = client.post(f"/gradebook/{course}/flags/groups/{group}", headers=headers,
                      data={"action": "maybe", "csrf_token": token})  # fmt: skip
    assert bad.status_code == 400 and flag_statuses(url) == {"accepted": 5, "rejected": 1}


def test_the_flags_page_shows_50_entries_a_page(tmp_path: Path) -> None:
    classroom = enrol(migrated_sqlite(tmp_path / "many.sqlite"), ("s000",))
    client = create_app(app_config(classroom.url, RATE_LIMIT="0/minute")).test_client()
    for n in range(60):  # hand-typed: one no_evidence flag each, no group
        response = post(client, hand_typed(f"typed-{n}"), classroom.bearer("s000"))
        assert response.status_code == 201 and response.json["flagged"], response.json
    headers = login(classroom)
    first = client.get(f"/gradebook/{classroom.course}/flags", headers=headers)
    text = first.get_data(as_text=True)
    assert text.count("data-flag=") == 50 and 'rel="next"' in text and 'rel="prev"' not in text
    second = client.get(f"/gradebook/{classroom.course}/flags?page=2", headers=headers)
    text = second.get_data(as_text=True)
    assert text.count("data-flag=") == 10 and 'rel="prev"' in text and 'rel="next"' not in text
    for bad in ("0", "x", "1" * 12):
        response = client.get(f"/gradebook/{classroom.course}/flags?page={bad}", headers=headers)
        assert response.status_code == 400


def test_a_verified_report_becomes_the_groups_first_without_a_second_flag(app: Flask) -> None:
    """Item 4 within a group: an instructor's run of a machine that self-reports showed
    first makes it the first (it counts); the former first's report is flagged, filed in the
    same group; a later report keeps its one flag (``course recheck`` names the new first)."""
    classroom = enrol(app.config["DATABASE_URL"], ("ann", "bob", "carol"))
    client = app.test_client()
    made = cli(app, "instructor", "create", "ta", "--password-stdin", stdin="longenough\n")
    assert made.exit_code == 0, made.output
    assert cli(app, "course", "add-instructor", classroom.course, "ta").exit_code == 0
    ta = {"Authorization": f"Bearer {issue_token(app, 'ta')}", STUDENT: "docker-101/carol"}
    machine = Lab()
    ann = post(client, report_xml(host=machine), classroom.bearer("ann"))
    bob = post(client, report_xml(host=replace(Lab(), engine_id=machine.engine_id)),
               classroom.bearer("bob"))  # fmt: skip
    carol = post(client, report_xml(host=replace(Lab(), engine_id=machine.engine_id)), ta)
    assert [r.json["flags"] for r in (ann, bob, carol)] == [[], ["shared_evidence"], []]
    expected = {"ann": "carol", "bob": "ann"}  # at ingest, bob's flag keeps naming ann
    for _ in range(2):
        assert flags_of(shown(client, classroom, ann.json["id"])) == [
            ("shared_evidence", "carol", "open")
        ]
        assert flags_of(shown(client, classroom, bob.json["id"])) == [
            ("shared_evidence", expected["bob"], "open")
        ]
        assert flags_of(shown(client, classroom, carol.json["id"])) == []
        rows = flag_table(classroom.url)
        assert len(rows) == 2 and len({group for _, group, _ in rows}) == 1
        page = client.get("/gradebook/docker-101/flags", headers=login(classroom))
        text = page.get_data(as_text=True)
        assert text.count("data-group=") == 1
        assert '<li class="first"><a href="/gradebook/docker-101/students/carol">' in text
        assert {k: v[0] for k, v in exported(app, classroom).items()} == {
            "ann": "", "bob": "", "carol": "28",
        }  # fmt: skip
        assert cli(app, "course", "recheck", classroom.course).exit_code == 0
        expected["bob"] = "carol"
