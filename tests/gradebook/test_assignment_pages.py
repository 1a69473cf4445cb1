"""Issue 19, items 7 and 8: a course of two assignments (the Docker lab and the tiny lab) in
the gradebook and its exports.

The course page is students by assignments, each cell the final grade that the exports
and the passback take; an assignment's page has its own roster, checks and rubric; its
settings page its dates, policy and rubric versions. Canvas's file is the whole course, one
column per assignment; Moodle's one assignment's; the web and ``grade-server grades
export`` write the same bytes. Another course's instructor gets 404 everywhere.
"""

from __future__ import annotations

import csv
import html as html_text
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from devlab.browser import served_in_thread
from devlab.server.reports import Lab, report_xml
from devlab.server.seeded import PASSWORD, USERNAME, csrf_from
from submissions.canvas import IDENTITY
from submissions.dialect import Report
from tests.server.test_assignments import TINY, tiny_report
from webhook.auth import hash_password
from webhook.cli.errors import EXIT_BAD_VALUE, EXIT_NOT_FOUND
from webhook.storage.assignments import add_assignment, add_rubric_version
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, CourseInstructor, Instructor, Student

from .conftest import FlaggedClass, flagged_class
from .test_access import log_in
from .test_browser import SCREENSHOTS, follow, snap

COURSE_PAGE = "/gradebook/docker-101/"
DOCKER, MOTD = "docker_beginners", "motd"
BEE = ("bee", "bee's own long password")  # teaches docker-202 only
#: The tiny lab's second rubric version: its one check is worth 5 now.
TINY_V2 = replace(TINY, entries=tuple(replace(e, points=5) for e in TINY.entries))


def tiny_with_evidence() -> Report:
    """The tiny lab's report, its check proved by what a real engine shows (not flagged)."""
    host = Lab()
    report = tiny_report()
    proof = next(found for found in host.evidence().values() if found)
    hello = replace(report.results[0], evidence=proof)
    return replace(report, engine_id=host.engine_id, results=(hello,))


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaggedClass]:
    """docker-101 with the Docker lab (ann 26; bob's copy and carol's hand-typed report
    flagged) and the tiny lab ``motd`` (rubric v2 by teacher; ann 5/5), beside docker-202."""
    folder = tmp_path_factory.mktemp("two-labs")
    made = flagged_class(f"sqlite:///{folder / 'labs.sqlite'}", folder)
    engine = make_engine(made.url)
    try:
        with make_session_factory(engine)() as session:
            course = session.scalars(select(Course).where(Course.slug == made.course)).one()
            motd = add_assignment(session, course, TINY, slug=MOTD, title="Tiny lab")
            add_rubric_version(session, motd, TINY_V2, created_by=USERNAME)
            other = Course(slug="docker-202", name="Docker 202")
            bee = Instructor(username=BEE[0], password_hash=hash_password(BEE[1]))
            session.add_all([other, bee])
            session.flush()
            session.add(Student(course_id=other.id, student_id="dan", token_hash="d" * 64))
            session.add(CourseInstructor(course_id=other.id, instructor_id=bee.id))
            session.commit()
    finally:
        engine.dispose()
    sent = made.app.test_client().post(
        "/api/v1/submissions",
        data=report_xml(tiny_with_evidence()),
        headers={"Authorization": "Bearer token-ann", "Content-Type": "application/xml"},
    )
    assert sent.status_code == 201, sent.get_data(as_text=True)
    yield made
    made.app.extensions["grader_db"].dispose()


@pytest.fixture
def teacher(labs: FlaggedClass) -> FlaskClient:
    return log_in(labs.app.test_client(), USERNAME, PASSWORD)


def html(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def cells(page: str) -> dict[str, dict[str, str]]:
    """The course page's grades: roster id → assignment slug → the cell's grade."""
    found: dict[str, dict[str, str]] = {}
    for who, row in re.findall(r'<tr data-student="([^"]+)">(.*?)</tr>', page, re.S):
        found[who] = dict(re.findall(r'data-assignment="([^"]+)" data-grade="(\d*)"', row))
    return found


def test_the_course_page_has_each_students_final_grade_for_each_assignment(
    teacher: FlaskClient,
) -> None:
    page = html(teacher, COURSE_PAGE)
    assert cells(page) == {
        "ann": {DOCKER: "26", MOTD: "5"},
        "bob": {DOCKER: "", MOTD: ""},  # his one report is a copy of ann's: flagged
        "carol": {DOCKER: "", MOTD: ""},
    }
    bob = re.search(r'<tr data-student="bob">(.*?)</tr>', page, re.S)
    assert bob is not None and "⚑ flagged" in bob[1]  # in words, not colour alone
    assert f'href="/gradebook/docker-101/a/{MOTD}">Tiny lab</a>' in page
    assert f'href="/gradebook/docker-101/a/{DOCKER}">Docker 101 lab</a>' in page
    assert 'href="/gradebook/docker-101/students/ann"' in page
    assert "of 28" in page and "of 5" in page  # each assignment's newest rubric


def test_an_assignment_page_is_its_own_roster_checks_and_rubric(teacher: FlaskClient) -> None:
    page = html(teacher, f"/gradebook/docker-101/a/{MOTD}")
    assert re.findall(r'<rect class="bar bar-\w+" data-check="([^"]+)"', page) == ["motd.hello"]
    assert "says hello" in page  # the check's title, from the assignment's rubric
    ann = page[page.index('data-student="ann"') :].split("</tr>")[0]
    assert "5/5" in ann and "✓ done" in ann
    bob = page[page.index('data-student="bob"') :].split("</tr>")[0]
    assert "not started" in bob  # his Docker report is not this assignment's
    docker = html(teacher, f"/gradebook/docker-101/a/{DOCKER}")
    assert "motd.hello" not in docker and 'data-check="hello.runs"' in docker


def test_the_settings_page_lists_the_rubric_versions_with_who_and_when(
    teacher: FlaskClient,
) -> None:
    page = html(teacher, f"/gradebook/docker-101/a/{MOTD}/settings")
    versions = re.findall(
        r'<tr data-version="(\d+)">.*?<td class="when">([^<]+)</td><td>([^<]*)</td>'
        r'<td class="num">(\d+)</td><td class="num">(\d+)</td>',
        page,
    )
    assert [(v, who, points) for v, _, who, _, points in versions] == [
        ("2", USERNAME, "5"),
        ("1", "—", "3"),
    ]
    assert all(when.endswith(" UTC") for _, when, *_ in versions)
    assert "verified reports, else self-reported" in page
    assert "No extension, excused student or override." in page
    assert f'href="/gradebook/docker-101/a/{MOTD}/rescore"' in page  # after a rubric change


def test_the_settings_page_lists_an_exception_with_who_when_and_why(
    labs: FlaggedClass, teacher: FlaskClient
) -> None:
    override = ("override", "docker-101", MOTD, "ann", "5")
    made = labs.app.test_cli_runner().invoke(
        args=["assignment", *override, "--note", "seen in class", "--by", "prof-x"]
    )
    assert made.exit_code == 0, made.output
    try:
        page = html(teacher, f"/gradebook/docker-101/a/{MOTD}/settings")
    finally:  # the class is the module's: leave ann's grade unmarked for the other tests
        removed = labs.app.test_cli_runner().invoke(
            args=["assignment", "override", *override[1:4], "--remove", "--note", "done"]
        )
        assert removed.exit_code == 0, removed.output
    *_, row = re.findall(r'<tr data-student="ann" data-kind="override">(.*?)</tr>', page)
    assert "grade 5" in row and "by prof-x" in row and "seen in class" in row
    assert "in force" in row
    again = html(teacher, f"/gradebook/docker-101/a/{MOTD}/settings")
    *_, row = re.findall(r'<tr data-student="ann" data-kind="override">(.*?)</tr>', again)
    assert "in force" not in row and ": done" in row


def record_exception(client: FlaskClient, **form: str) -> str:
    """Post the settings page's exception form; the page it lands on (with its message)."""
    settings = f"/gradebook/docker-101/a/{MOTD}/settings"
    token = csrf_from(html(client, settings))
    posted = client.post(
        f"/gradebook/docker-101/a/{MOTD}/exceptions",
        data={"csrf_token": token, **form},
        follow_redirects=True,
    )
    assert posted.status_code == 200, posted.status_code
    return posted.get_data(as_text=True)


def motd_grade(client: FlaskClient) -> str:
    """Ann's grade for the tiny lab on the course page, with its marks ("4 overridden")."""
    page = html(client, "/gradebook/docker-101/")
    [row] = re.findall(r'<tr data-student="ann">(.*?)</tr>', page, re.S)
    [cell] = re.findall(rf'data-assignment="{MOTD}" data-grade="(\d*)">(.*?)</td>', row, re.S)
    marks = re.findall(r'class="badge mark mark-[a-z]+">([a-z]+)<', cell[1])
    return " ".join([cell[0], *marks])


def test_the_settings_form_overrides_a_grade_and_removes_it_with_a_note(
    teacher: FlaskClient,
) -> None:
    page = record_exception(
        teacher, student="ann", action="override", grade="4", note="typo in the lab sheet"
    )
    try:
        assert "ann: override recorded" in page
        assert motd_grade(teacher) == "4 overridden"
        *_, row = re.findall(r'<tr data-student="ann" data-kind="override">(.*?)</tr>', page)
        assert f"by {USERNAME}" in row and "typo in the lab sheet" in row and "in force" in row
    finally:
        page = record_exception(
            teacher, student="ann", action="remove", kind="override", note="fixed"
        )
    assert "ann: remove recorded" in page
    assert motd_grade(teacher) == "5"


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"student": "ann", "action": "override", "grade": "6", "note": "x"}, "above"),
        ({"student": "ann", "action": "override", "grade": "4", "note": " "}, "needs a note"),
        ({"student": "zed", "action": "excuse", "note": "x"}, "not on the course's roster"),
        ({"student": "ann", "action": "extend", "days": "2", "note": "x"}, "no close"),
        ({"student": "ann", "action": "remove", "kind": "excused", "note": "x"}, "no excused"),
    ],
)
def test_the_settings_form_refuses_in_one_line_and_changes_nothing(
    labs: FlaggedClass, teacher: FlaskClient, form: dict[str, str], said: str
) -> None:
    before = motd_grade(teacher)
    page = record_exception(teacher, **form)
    [message] = re.findall(r"Nothing changed: ([^<]*)", html_text.unescape(page))
    assert said in message, message
    assert motd_grade(teacher) == before


def test_the_settings_form_wants_its_csrf_token_and_the_course_to_be_taught(
    labs: FlaggedClass, teacher: FlaskClient
) -> None:
    url = f"/gradebook/docker-101/a/{MOTD}/exceptions"
    form = {"student": "ann", "action": "excuse", "note": "x"}
    assert teacher.post(url, data=form).status_code == 400  # no CSRF token
    bee = log_in(labs.app.test_client(), *BEE)
    token = csrf_from(html(bee, "/gradebook/docker-202/"))
    assert bee.post(url, data={"csrf_token": token, **form}).status_code == 404
    assert motd_grade(teacher) == "5"


def web_export(client: FlaskClient, query: str) -> bytes:
    response = client.get(f"/gradebook/docker-101/export.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data()


def test_the_canvas_file_has_one_column_per_assignment(teacher: FlaskClient) -> None:
    rows = list(csv.reader(io.StringIO(web_export(teacher, "format=canvas").decode())))
    assert rows[0] == [*IDENTITY, "Docker 101 lab", "Tiny lab"]
    assert rows[1] == ["Points Possible", "", "", "", "", "28", "5"]
    assert {row[2]: row[5:] for row in rows[2:]} == {
        "ann": ["26", "5"],
        "bob": ["", ""],
        "carol": ["", ""],
    }
    flags = list(csv.reader(io.StringIO(web_export(teacher, "format=flags").decode())))
    bob = [row for row in flags[1:] if row[1] == "bob"]
    assert [row[3] for row in bob] == ["Docker 101 lab", "Tiny lab"]  # a row per assignment
    assert "shared evidence with ann" in bob[0][-1]


@pytest.mark.parametrize(
    ("fmt", "assignment"), [("canvas", None), ("flags", None), ("moodle", MOTD)]
)
def test_the_cli_writes_the_web_exports_bytes(
    labs: FlaggedClass,
    teacher: FlaskClient,
    tmp_path: Path,
    fmt: str,
    assignment: str | None,
) -> None:
    web = web_export(teacher, f"format={fmt}" + (f"&assignment={assignment}" if assignment else ""))
    runner = labs.app.test_cli_runner()
    args = ["grades", "export", "docker-101", "--format", fmt]
    args += ["--assignment", assignment] if assignment else []
    written = runner.invoke(args=[*args, "-o", str(tmp_path / "out.csv")])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "out.csv").read_bytes() == web
    printed = runner.invoke(args=args)
    assert printed.exit_code == 0 and printed.stdout_bytes == web


def test_moodle_needs_the_assignment_named_when_the_course_has_several(
    labs: FlaggedClass, teacher: FlaskClient
) -> None:
    runner = labs.app.test_cli_runner()
    unnamed = runner.invoke(args=["grades", "export", "docker-101", "--format", "moodle"])
    assert unnamed.exit_code == EXIT_BAD_VALUE
    assert unnamed.output.strip().splitlines() == [
        "Error: course docker-101 has 2 assignments (docker_beginners, motd): a Moodle file is"
        " one assignment's, name it (--assignment SLUG, or assignment=SLUG)"
    ]
    unknown = runner.invoke(
        args=["grades", "export", "docker-101", "--format", "moodle", "--assignment", "nope"]
    )
    assert unknown.exit_code == EXIT_NOT_FOUND
    assert "course docker-101 has no assignment 'nope'" in unknown.output
    assert teacher.get("/gradebook/docker-101/export.csv?format=moodle").status_code == 400
    rows = list(csv.reader(io.StringIO(web_export(teacher, f"format=moodle&assignment={MOTD}")
                                       .decode())))  # fmt: skip
    assert rows[0][-1] == "Tiny lab" and rows[1] == ["ann", "ann@example.edu", "Ann", "Example",
                                                      "", "5"]  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        COURSE_PAGE,
        f"/gradebook/docker-101/a/{MOTD}",
        f"/gradebook/docker-101/a/{MOTD}/settings",
        "/gradebook/docker-101/export.csv?format=canvas",
        f"/gradebook/docker-101/export.csv?format=moodle&assignment={MOTD}",
    ],
)
def test_another_courses_instructor_gets_404(labs: FlaggedClass, path: str) -> None:
    bee = log_in(labs.app.test_client(), *BEE)
    assert bee.get("/gradebook/docker-202/").status_code == 200  # theirs
    assert bee.get(path).status_code == 404


@pytest.fixture(scope="module")
def labs_server(labs: FlaggedClass) -> Iterator[str]:
    with served_in_thread(labs.app) as url:
        yield url


def test_the_instructor_goes_from_the_course_to_an_assignment_and_its_settings(
    labs_server: str,
    browser: WebDriver,
) -> None:
    browser.get(f"{labs_server}/login?next={COURSE_PAGE}")
    browser.find_element(By.ID, "username").send_keys(USERNAME)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    headers = browser.find_elements(By.CSS_SELECTOR, "#grades th[data-assignment]")
    assert [th.get_attribute("data-assignment") for th in headers] == [DOCKER, MOTD]
    ann = browser.find_element(By.CSS_SELECTOR, "#grades tr[data-student='ann']")
    assert [td.text for td in ann.find_elements(By.CSS_SELECTOR, "td.grade")] == ["26", "5"]
    bob = browser.find_element(By.CSS_SELECTOR, "#grades tr[data-student='bob'] td.grade")
    flag = bob.find_element(By.CSS_SELECTOR, ".mark-flagged")
    assert flag.is_displayed() and flag.text.startswith("⚑ flagged")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # beside test_browser's, never wiping them
    snap(browser, SCREENSHOTS, "20-course-two-assignments")

    follow(browser, browser.find_element(By.LINK_TEXT, "Tiny lab"))
    assert browser.current_url == f"{labs_server}/gradebook/docker-101/a/{MOTD}"
    bars = browser.find_elements(By.CSS_SELECTOR, "svg#passrate-chart rect.bar")
    assert [bar.get_attribute("data-check") for bar in bars] == ["motd.hello"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#roster tbody tr")
    assert [row.get_attribute("data-student") for row in rows] == ["ann", "bob", "carol"]
    snap(browser, SCREENSHOTS, "21-assignment")

    follow(browser, browser.find_element(By.ID, "settings-link"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tiny lab: settings"
    versions = browser.find_elements(By.CSS_SELECTOR, "#rubric-versions tbody tr")
    assert [row.get_attribute("data-version") for row in versions] == ["2", "1"]
    assert USERNAME in versions[0].text
    snap(browser, SCREENSHOTS, "22-assignment-settings")

    follow(browser, browser.find_element(By.LINK_TEXT, "Docker 101"))  # the breadcrumb
    assert browser.current_url == f"{labs_server}{COURSE_PAGE}"
