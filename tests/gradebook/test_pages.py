"""The gradebook's pages through the Flask test client: access control and content."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from devlab.server.seeded import PASSWORD, USERNAME, Seeded, csrf_from
from submissions.rubric import shipped_rubric
from webhook.auth import hash_password
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import Course, Instructor, Student

CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]+"')
#: The seeded course's one assignment's page (issue 19: the course page is students by
#: assignments; what it showed before is each assignment's page).
ASSIGNMENT = "/gradebook/docker-101/a/docker_beginners"
PAGES = (
    "/gradebook/",
    "/gradebook/docker-101/",
    ASSIGNMENT,
    f"{ASSIGNMENT}/settings",
    "/gradebook/docker-101/students/zz-ann",
    "/gradebook/docker-101/submissions/1",
    "/gradebook/docker-101/export.csv?format=canvas",
)


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def rows(page: str) -> list[str]:
    """The roster ids of the overview's table, in order."""
    return re.findall(r'<tr class="[^"]*" data-student="([^"]+)"', page)


# --- access control -----------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_visitors_to_the_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [path]}


def test_login_brings_the_instructor_back_where_they_were(client: FlaskClient) -> None:
    target = "/gradebook/docker-101/students/zz-ann"
    page = html(client.get(f"/login?next={quote(target)}"))
    response = client.post(
        "/login",
        data={
            "username": USERNAME,
            "password": PASSWORD,
            "next": target,
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert client.get(target).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_login_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    token = csrf_from(html(client.get("/login")))
    response = client.post(
        "/login",
        data={"username": USERNAME, "password": PASSWORD, "next": target, "csrf_token": token},
    )
    assert response.headers["Location"] == "/gradebook/"


@pytest.mark.parametrize(
    ("username", "password"),
    [(USERNAME, "wrong"), ("nobody", PASSWORD), (USERNAME, ""), ("", "")],
)
def test_a_wrong_password_is_refused(client: FlaskClient, username: str, password: str) -> None:
    token = csrf_from(html(client.get("/login")))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in html(response)
    assert client.get("/gradebook/docker-101/").status_code == 302


def test_login_without_csrf_token_is_a_bad_request(client: FlaskClient) -> None:
    client.get("/login")  # the session has a token; the form does not send it
    response = client.post("/login", data={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 400
    assert "missing its CSRF token" in html(response)
    assert client.get("/gradebook/docker-101/").status_code == 302


def test_login_with_another_sessions_token_is_a_bad_request(
    client: FlaskClient, app: Flask
) -> None:
    stolen = csrf_from(html(app.test_client().get("/login")))
    client.get("/login")
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": stolen}
    )
    assert response.status_code == 400


def test_login_with_no_session_at_all_is_a_bad_request(client: FlaskClient) -> None:
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": "x" * 43}
    )
    assert response.status_code == 400


def test_logout_needs_the_csrf_token_and_ends_the_session(instructor: FlaskClient) -> None:
    assert instructor.post("/logout").status_code == 400
    assert instructor.get("/gradebook/docker-101/").status_code == 200

    token = csrf_from(html(instructor.get("/gradebook/docker-101/")))
    response = instructor.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert instructor.get("/gradebook/docker-101/").status_code == 302


def test_logout_is_not_a_get(instructor: FlaskClient) -> None:
    assert instructor.get("/logout").status_code == 405


def test_the_login_page_of_a_logged_in_instructor_goes_to_the_gradebook(
    instructor: FlaskClient,
) -> None:
    response = instructor.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/gradebook/"


# --- the pages ----------------------------------------------------------------------------


def test_one_course_goes_straight_to_its_overview(instructor: FlaskClient) -> None:
    response = instructor.get("/gradebook/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/gradebook/docker-101/"


def test_the_course_page_has_each_students_final_grade_by_assignment(
    instructor: FlaskClient, seeded: Seeded
) -> None:
    page = html(instructor.get("/gradebook/docker-101/"))
    grades = dict(re.findall(r'<tr data-student="([^"]+)">.*?data-grade="(\d*)"', page, re.S))
    assert len(grades) == seeded.students
    full = seeded.rubric.max_score
    # ann's full report counts (her flagged one does not); bob's one report counts
    assert (grades["zz-ann"], grades["zz-bob"]) == (str(full), str(full - 1))
    assert f'href="{ASSIGNMENT}"' in page
    assert 'href="/gradebook/docker-101/students/zz-ann"' in page
    assert f'href="{ASSIGNMENT}/settings"' in page


def test_overview_lists_every_student_with_scores_and_flags(
    instructor: FlaskClient, seeded: Seeded
) -> None:
    page = html(instructor.get(ASSIGNMENT))
    assert len(rows(page)) == seeded.students
    full = seeded.rubric.max_score

    ann = page[page.index('data-student="zz-ann"') :].split("</tr>")[0]
    assert "Ann Example" in ann
    assert ann.count(f"{full}/{full}") == 2  # latest and best
    assert "✓ done" in ann
    assert "⚑ 1 flagged" in ann and "unknown grader version 9.9.9" in ann

    bob = page[page.index('data-student="zz-bob"') :].split("</tr>")[0]
    assert ann.count(f"{full - 1}/{full}") == 0 and bob.count(f"{full - 1}/{full}") == 2
    assert "in progress" in bob and "flagged" not in bob
    assert "2026-11-02 10:00 UTC" in bob

    assert page.count("not started") == 2  # the silent students
    assert re.search(r"<strong>14</strong> students", page)
    assert re.search(r"<strong>12</strong> submitted", page)


def test_overview_draws_one_bar_per_check(instructor: FlaskClient, seeded: Seeded) -> None:
    page = html(instructor.get(ASSIGNMENT))
    assert re.findall(r'<rect class="bar bar-\w+" data-check="([^"]+)"', page) == list(
        seeded.rubric
    )
    assert 'role="img" aria-labelledby="passrate-title passrate-desc"' in page
    rates = [int(r) for r in re.findall(r'data-rate="(\d+)"', page)]
    assert all(0 <= r <= 100 for r in rates)


def test_pass_rates_count_only_the_latest_report(instructor: FlaskClient, seeded: Seeded) -> None:
    """Ann failed tweet.serves only in her older report: it counts as passed for her."""
    page = html(instructor.get(ASSIGNMENT))
    table = page[page.index('class="as-table"') :]
    row = re.search(
        r"<code>tweet\.serves</code>[^<]*</td><td class=\"num\">(\d+)</td>"
        r"<td class=\"num\">(\d+)</td>",
        table,
    )
    assert row is not None
    assert int(row[2]) == 12  # every student with a report, once


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [
        ("", "s00001", "zz-bob"),
        ("?sort=id&dir=desc", "zz-bob", "s00001"),
        ("?sort=best&dir=desc", None, "s00012"),  # done first, not started last
        ("?sort=nonsense", "s00001", "zz-bob"),
    ],
)
def test_overview_sorts_by_a_column(
    instructor: FlaskClient, query: str, first: str | None, last: str
) -> None:
    order = rows(html(instructor.get(f"{ASSIGNMENT}{query}")))
    assert order[-1] == last
    if first is not None:
        assert order[0] == first


def test_sorting_by_best_puts_the_done_first(instructor: FlaskClient) -> None:
    page = html(instructor.get(f"{ASSIGNMENT}?sort=best&dir=desc"))
    classes = re.findall(r'<tr class="([^"]*)" data-student=', page)
    done = [c.split()[0] == "done" for c in classes]
    assert done == sorted(done, reverse=True) and done[0]
    assert 'aria-sort="descending"' in page


def test_student_history(instructor: FlaskClient, seeded: Seeded) -> None:
    page = html(instructor.get("/gradebook/docker-101/students/zz-ann"))
    assert "<h1>Ann Example</h1>" in page
    assert page.count('<circle class="point') == 2
    assert f"/gradebook/docker-101/submissions/{seeded.ann_flagged}" in page
    assert f"/gradebook/docker-101/submissions/{seeded.ann_full}" in page
    # newest first in the table
    assert page.index(f">#{seeded.ann_full}<") < page.index(f">#{seeded.ann_flagged}<")
    assert "⚑ unknown grader version 9.9.9" in page


def test_submission_lists_every_check(instructor: FlaskClient, seeded: Seeded) -> None:
    page = html(instructor.get(f"/gradebook/docker-101/submissions/{seeded.bob_only}"))
    checks = re.findall(r'<tr class="check-(\w+)" data-check="([^"]+)"', page)
    assert [check for _, check in checks] == list(seeded.rubric)
    assert [check for status, check in checks if status != "passed"] == ["mydb.version"]
    assert "found nothing for mydb.version" in page
    assert "docker run … (mydb.version)" in page
    assert "Flagged" not in page


def test_flagged_submission_says_why(instructor: FlaskClient, seeded: Seeded) -> None:
    page = html(instructor.get(f"/gradebook/docker-101/submissions/{seeded.ann_flagged}"))
    assert "⚑ Flagged:</strong> unknown grader version 9.9.9" in page


@pytest.mark.parametrize(
    "path",
    [
        "/gradebook/no-such-course/",
        "/gradebook/docker-101/students/nobody",
        "/gradebook/docker-101/submissions/999999",
        "/gradebook/no-such-course/submissions/1",
        "/gradebook/no-such-course/export.csv",
        "/gradebook/docker-101/a/nope",
        "/gradebook/docker-101/a/nope/settings",
        "/gradebook/no-such-course/a/docker_beginners",
        "/gradebook/docker-101/export.csv?format=moodle&assignment=nope",
    ],
)
def test_unknown_things_are_404(instructor: FlaskClient, path: str) -> None:
    response = instructor.get(path)
    assert response.status_code == 404
    assert "Back to the gradebook" in html(response)


def test_pages_need_nothing_from_elsewhere(instructor: FlaskClient, seeded: Seeded) -> None:
    for path in (
        "/login",
        "/gradebook/docker-101/",
        "/gradebook/docker-101/students/zz-ann",
        f"/gradebook/docker-101/submissions/{seeded.ann_flagged}",
    ):
        response = instructor.get(path)
        page = html(response)
        assert "<script" not in page
        assert not re.search(r'(src|href)="(https?:)?//', page), path
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    css = instructor.get("/gradebook/static/gradebook/gradebook.css")
    assert css.status_code == 200
    assert "url(" not in css.get_data(as_text=True)
    css.close()


# --- export -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["canvas", "moodle"])
def test_export_is_a_csv_download(instructor: FlaskClient, fmt: str) -> None:
    response = instructor.get(f"/gradebook/docker-101/export.csv?format={fmt}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f'filename="docker-101-{fmt}.csv"' in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) >= 15  # a header and a line per student
    assert any("zz-ann" in line or "ann@example.edu" in line for line in lines)


def test_export_of_an_unknown_format_is_a_bad_request(instructor: FlaskClient) -> None:
    assert instructor.get("/gradebook/docker-101/export.csv?format=excel").status_code == 400


# --- several courses, and an empty one ----------------------------------------------------


@pytest.fixture
def two_courses(tmp_path: Path, app_factory: Callable[[str, Path], Flask]) -> Iterator[FlaskClient]:
    url = f"sqlite:///{tmp_path / 'two.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        # a server administrator: sees every course, taught or not (webhook.access)
        session.add(
            Instructor(username=USERNAME, password_hash=hash_password(PASSWORD), is_admin=True)
        )
        empty = Course(slug="empty", name="A course with nobody")
        quiet = Course(slug="quiet", name="B course with no reports")
        session.add_all([empty, quiet])
        session.flush()
        session.add(Student(course_id=quiet.id, student_id="q1", name="Quinn", token_hash="q"))
        add_assignment(session, quiet, shipped_rubric())
        session.commit()
    engine.dispose()
    app = app_factory(url, tmp_path)
    client = app.test_client()
    token = csrf_from(html(client.get("/login")))
    client.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    yield client
    app.extensions["grader_db"].dispose()


def test_several_courses_are_listed(two_courses: FlaskClient) -> None:
    page = html(two_courses.get("/gradebook/"))
    assert page.index("A course with nobody") < page.index("B course with no reports")


def test_empty_course_and_course_without_reports(two_courses: FlaskClient) -> None:
    empty = html(two_courses.get("/gradebook/empty/"))
    assert "Nobody is enrolled yet" in empty and "No assignment yet" in empty
    quiet = html(two_courses.get("/gradebook/quiet/"))
    assert re.search(r'<tr data-student="q1">.*?data-grade=""', quiet, re.S)
    quiet = html(two_courses.get("/gradebook/quiet/a/docker_beginners"))
    assert "No reports yet" in quiet
    assert "not started" in quiet
    assert "No report from this student yet" in html(
        two_courses.get("/gradebook/quiet/students/q1")
    )


def test_postgresql_shows_the_same_gradebook(
    instructor: FlaskClient,
    pg_seeded: Seeded,
    app_factory: Callable[[str, Path], Flask],
    tmp_path: Path,
) -> None:
    """The same class stored in PostgreSQL renders the very same pages as in SQLite."""
    pg_app = app_factory(pg_seeded.url, tmp_path)
    pg = pg_app.test_client()
    try:
        token = csrf_from(html(pg.get("/login")))
        pg.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
        for path in (
            "/gradebook/docker-101/",
            f"{ASSIGNMENT}?sort=best&dir=desc",  # (the settings page says when it was made)
            "/gradebook/docker-101/students/zz-ann",
            f"/gradebook/docker-101/submissions/{pg_seeded.ann_flagged}",
        ):
            ours, theirs = html(instructor.get(path)), html(pg.get(path))
            ours, theirs = (CSRF_VALUE.sub("", page) for page in (ours, theirs))
            assert theirs == ours, path
    finally:
        pg_app.extensions["grader_db"].dispose()


def test_export_with_http_basic_auth_for_scripts(client: FlaskClient) -> None:
    """`curl -u user:password .../export.csv` works: the server takes HTTP basic too."""
    credentials = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    response = client.get(
        "/gradebook/docker-101/export.csv?format=moodle",
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
