"""The accessibility tier's sites: each a served app with a class in it, walked once in
headless Chromium, every page audited (:mod:`.walk`). Module-scoped: the browser closes with
the module that used it.

- ``class``: the flagged class (ann's own report, bob's copy, carol's hand-typed one) beside
  a second course the same instructor teaches, and a second rubric version to rescore with:
  login, courses, course, assignment, settings, rescore, student, report, flags, errors.
- ``sample``: the seeded sample class (charts with many students and reports).
- ``verified``: a class with verified runs beside self-reported ones.
- ``lti``: the tool launched from the simulated LMS: the student's page, the instructor's
  landing, deep linking and the refusals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.wait import WebDriverWait

from devlab.browser import headless_chromium, served_in_thread
from devlab.server.enrolment import migrated_sqlite
from devlab.server.lms import ROLE_INSTRUCTOR
from devlab.server.seeded import COURSE, PASSWORD, USERNAME, make_app, seed_database
from submissions.rubric import shipped_rubric
from tests.gradebook.conftest import FlaggedClass, flagged_class
from tests.gradebook.test_verified import verified_class
from tests.lti.conftest import Lti, tool_and_platform
from tests.server.progress import document, post, turn_on
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, CourseInstructor, Instructor, Student

from .walk import Audited, Walk

OTHER = "docker-202"
ASSIGNMENT = f"/gradebook/{COURSE}/a/docker_beginners"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path_factory.mktemp("a11y-chromium")) as driver:
        yield driver


def log_in(walk: Walk, password: str = PASSWORD) -> None:
    """Type the instructor's name and ``password`` in the login form and send it."""
    driver = walk.driver
    for field, value in (("username", USERNAME), ("password", password)):
        driver.find_element(By.ID, field).clear()
        driver.find_element(By.ID, field).send_keys(value)
    walk.click("button[type=submit]")


def two_course_class(folder: Path) -> FlaggedClass:
    """The flagged class, docker-202 (taught by the same instructor) and rubric v2 of the
    assignment (tweet.dockerfile worth 5): a rescore changes ann's grade."""
    made = flagged_class(f"sqlite:///{folder / 'class.sqlite'}", folder)
    engine = make_engine(made.url)
    try:
        with make_session_factory(engine)() as session:
            other = Course(slug=OTHER, name="Docker 202")
            session.add(other)
            session.flush()
            session.add(Student(course_id=other.id, student_id="dan", token_hash="d" * 64))
            teacher = session.query(Instructor).filter_by(username=USERNAME).one()
            session.add(CourseInstructor(course_id=other.id, instructor_id=teacher.id))
            session.commit()
    finally:
        engine.dispose()
    document = shipped_rubric().to_dict()
    for entry in document["checks"]:
        if entry["id"] == "tweet.dockerfile":
            entry["points"] = 5
    path = folder / "rubric-v2.json"
    path.write_text(json.dumps(document))
    result = made.app.test_cli_runner().invoke(
        args=["assignment", "rubric", COURSE, "docker_beginners", str(path)]
    )
    assert result.exit_code == 0, result.output
    return made


@pytest.fixture(scope="module")
def class_site(
    chromium: WebDriver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Audited]]:
    made = two_course_class(tmp_path_factory.mktemp("a11y-class"))
    try:
        with served_in_thread(made.app) as base:
            chromium.delete_all_cookies()
            walk = Walk(chromium, made.app, base)
            walk_the_class(walk, made)
            chromium.delete_all_cookies()
            yield walk.pages
    finally:
        made.app.extensions["grader_db"].dispose()


def walk_the_class(walk: Walk, made: FlaggedClass) -> None:
    driver = walk.driver
    walk.visit("login", "/login")
    log_in(walk, password="not the password")
    walk.check("login, refused")
    log_in(walk)
    assert driver.current_url == f"{walk.base}/gradebook/", driver.current_url
    walk.check("courses")
    walk.visit("course", f"/gradebook/{COURSE}/")
    walk.visit("assignment", ASSIGNMENT)
    walk.visit("assignment, sorted", f"{ASSIGNMENT}?sort=best&dir=desc")
    walk.visit("assignment settings", f"{ASSIGNMENT}/settings")
    driver.find_element(By.ID, "ex-student").send_keys("ann")
    Select(driver.find_element(By.ID, "ex-action")).select_by_value("extend")
    driver.find_element(By.ID, "ex-days").send_keys("2")
    driver.find_element(By.ID, "ex-note").send_keys("ill for two days")
    walk.click("#exception-form button[type=submit]")
    walk.check("assignment settings, an extension recorded")
    walk.visit("rescore preview", f"{ASSIGNMENT}/rescore")
    assert driver.find_elements(By.CSS_SELECTOR, "#changes tr[data-student='ann']")
    walk.click("form[method=post] button.button")
    assert driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    walk.check("rescore done, its history")
    walk_the_board(walk, made)
    walk.visit("student", f"/gradebook/{COURSE}/students/ann")
    walk.visit("report, flagged", f"/gradebook/{COURSE}/submissions/{made.submissions['bob']}")
    walk.visit("flags, open", f"/gradebook/{COURSE}/flags")
    walk.click("#flags tr.group a[href*='group=']")
    walk.check("flags, one group")
    walk.visit("flags, open again", f"/gradebook/{COURSE}/flags")
    walk.click("#flags tr[data-student='carol'] button.accept")
    walk.check("flags, a flag accepted")
    walk.click("#flags tr.group a[href*='group=']")
    walk.click("#flags tr[data-student='bob'] button.reject")
    walk.check("flags, a report rejected")
    walk.visit("student, a report rejected", f"/gradebook/{COURSE}/students/bob")
    walk.visit("flags, decided", f"/gradebook/{COURSE}/flags?show=decided")
    walk.visit("flags, all", f"/gradebook/{COURSE}/flags?show=all")
    walk.visit("error 404", f"/gradebook/{COURSE}/students/nobody")
    walk.visit("error 400", f"/gradebook/{COURSE}/flags?show=everything")


def walk_the_board(walk: Walk, made: FlaggedClass) -> None:
    """The class board with progress on and two students' progress drawn by its script."""
    turn_on(made.app.test_cli_runner())
    http = made.app.test_client()
    for who, status in (("ann", "passed"), ("bob", "failed")):
        body = document(("hello.runs", status, "no container ran hello-world"))
        assert post(http, f"token-{who}", body).status_code == 200
    walk.driver.get(f"{walk.base}{ASSIGNMENT}/board")
    WebDriverWait(walk.driver, 10).until(
        lambda driver: driver.find_element(By.ID, "status").text != "loading…"
    )
    walk.check("class board")


@pytest.fixture(scope="module")
def sample_site(
    chromium: WebDriver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Audited]]:
    folder = tmp_path_factory.mktemp("a11y-sample")
    seeded = seed_database(f"sqlite:///{folder / 'grader.sqlite'}", shipped_rubric())
    app = make_app(seeded.url, folder)
    # a deadline long past: every report is late, marked so on every page
    result = app.test_cli_runner().invoke(
        args=["assignment", "set", COURSE, "docker_beginners", "--closes", "2000-01-01T00:00"]
    )
    assert result.exit_code == 0, result.output
    try:
        with served_in_thread(app) as base:
            chromium.delete_all_cookies()
            walk = Walk(chromium, app, base)
            walk.driver.get(f"{base}/login")
            log_in(walk)
            walk.check("course, sample class")
            walk.visit("assignment, sample class", ASSIGNMENT)
            walk.visit("student, sample class", f"/gradebook/{COURSE}/students/zz-ann")
            walk.visit(
                "report, failed checks", f"/gradebook/{COURSE}/submissions/{seeded.ann_flagged}"
            )
            walk.visit("report, full marks", f"/gradebook/{COURSE}/submissions/{seeded.ann_full}")
            chromium.delete_all_cookies()
            yield walk.pages
    finally:
        app.extensions["grader_db"].dispose()


@pytest.fixture(scope="module")
def verified_site(
    chromium: WebDriver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Audited]]:
    folder = tmp_path_factory.mktemp("a11y-verified")
    made = verified_class(f"sqlite:///{folder / 'verified.sqlite'}", folder)
    try:
        with served_in_thread(made.app) as base:
            chromium.delete_all_cookies()
            walk = Walk(chromium, made.app, base)
            walk.driver.get(f"{base}/login")
            log_in(walk)
            walk.visit("assignment, verified", ASSIGNMENT)
            walk.visit("student, verified", f"/gradebook/{COURSE}/students/ann")
            chromium.delete_all_cookies()
            yield walk.pages
    finally:
        made.app.extensions["grader_db"].dispose()


@pytest.fixture(scope="module")
def lti_site(
    chromium: WebDriver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Audited]]:
    folder = tmp_path_factory.mktemp("a11y-lti")
    with contextmanager(tool_and_platform)(migrated_sqlite(folder / "grader.sqlite")) as lti:
        chromium.delete_all_cookies()
        walk = Walk(chromium, lti.app, lti.base)
        walk_the_lti(walk, lti)
        chromium.delete_all_cookies()
        yield walk.pages


def launched(walk: Walk, name: str, url: str, element_id: str) -> None:
    """Open ``url`` (the LMS's launch, which posts its form by itself) and audit the page
    once ``element_id`` is on it."""
    walk.driver.get(url)
    WebDriverWait(walk.driver, 20).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )
    walk.check(name)


def walk_the_lti(walk: Walk, lti: Lti) -> None:
    sim = lti.sim
    sim.add_user("lms-dee", name="Dee Park")
    sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    launched(walk, "LTI student page", sim.launch_url("lms-dee"), "submit-command")
    command = walk.driver.find_element(By.ID, "submit-command").text
    token = command.split()[0].split("=", 1)[1]
    assert lti.submit_with(token).status_code == 201
    launched(walk, "LTI student page, graded", sim.launch_url("lms-dee"), "grade")
    turn_on(lti.app.test_cli_runner())  # the class board on: dee's own progress on her page
    checks = (("hello.runs", "passed", ""), ("mydb.running", "failed", "mydb is not running"))
    assert post(lti.app.test_client(), token, document(*checks)).status_code == 200
    launched(walk, "LTI student page, own progress", sim.launch_url("lms-dee"), "progress")
    deep_link = sim.launch_url("lms-prof", kind="deeplink")
    launched(walk, "LTI deep linking", deep_link, "lab-docker_beginners")
    by_a_student = sim.launch_url("lms-dee", kind="deeplink")
    launched(walk, "LTI refused, a student deep linking", by_a_student, "reason")
    sim.spoil = lambda claims: claims.update(_rogue_key=True)
    launched(walk, "LTI refused, bad signature", sim.launch_url("lms-dee"), "reason")
    sim.spoil = None
    stranger = f"{lti.base}/lti/login?iss=https://stranger.example&login_hint=x&client_id=y"
    launched(walk, "LTI login refused, unknown platform", stranger, "reason")
    launched(walk, "course, launched from the LMS", sim.launch_url("lms-prof"), "lms-roster-sync")
