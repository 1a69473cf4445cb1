"""The gradebook beside verified grading: each student's latest verified score next to their
best self-reported one, and ⚑ where the student's own best is higher (issue 8, part 3).

The class is made through the API (students' tokens, an instructor's API token with
``X-Grader-Student``), then read by the course page, its query, and headless Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from devlab.browser import served_in_thread
from devlab.server.reports import Lab, report_xml
from devlab.server.seeded import COURSE, PASSWORD, USERNAME, csrf_from, make_app
from submissions.rubric import shipped_rubric
from webhook.auth import hash_password
from webhook.gradebook import queries
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory, upgrade
from webhook.storage.models import Course, CourseInstructor, Instructor, Student
from webhook.storage.tokens import hash_token

from .test_browser import SCREENSHOTS, follow, snap

TA_TOKEN = "gli_test-token-of-the-ta"
#: Checks whose failing costs exactly these points (the shipped rubric).
FAILING = {
    28: (),
    26: ("mydb.running",),
    20: ("tweet.dockerfile", "tweet.image", "tweet.published", "mydb.version"),
}
#: roster id → (self-reported scores, verified scores), sent in this order.
CLASS = {
    "ann": ((28,), (26, 20)),  # claims more than the latest verified run found: ⚑
    "bob": ((20,), (28,)),  # did more since: no flag
    "cy": ((26,), (26,)),  # the same: no flag (only higher is)
    "dee": ((), (26,)),  # only verified
    "eve": ((28,), ()),  # never verified
}
SELF_HIGHER = {"ann"}

#: The class's one assignment's page: its roster has the verified column (issue 19).
ASSIGNMENT = f"/gradebook/{COURSE}/a/docker_beginners"


@dataclass(frozen=True)
class VerifiedClass:
    app: Flask
    url: str


def verified_class(url: str, instance: Path) -> VerifiedClass:
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            course = Course(slug=COURSE, name="Docker 101")
            teacher = Instructor(  # reads the gradebook as an administrator; verifies nothing
                username=USERNAME, password_hash=hash_password(PASSWORD), is_admin=True
            )
            ta = Instructor(username="ta", password_hash="x", token_hash=hash_token(TA_TOKEN))
            session.add_all([course, teacher, ta])
            session.flush()
            add_assignment(session, course, shipped_rubric())
            session.add(CourseInstructor(course_id=course.id, instructor_id=ta.id))
            for who in CLASS:
                session.add(
                    Student(course_id=course.id, student_id=who, name=f"{who.title()} Example",
                            email=f"{who}@example.edu", token_hash=hash_token(f"token-{who}"))
                )  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    app = make_app(url, instance)
    client = app.test_client()
    xml = {"Content-Type": "application/xml"}
    for who, (own, verified) in CLASS.items():
        host = Lab()
        sent = [(score, {"Authorization": f"Bearer token-{who}"}) for score in own] + [
            (score, {"Authorization": f"Bearer {TA_TOKEN}", "X-Grader-Student": f"{COURSE}/{who}"})
            for score in verified
        ]
        for score, headers in sent:
            body = report_xml(host=host, failing=FAILING[score])
            response = client.post("/api/v1/submissions", data=body, headers={**xml, **headers})
            assert response.status_code == 201, response.get_data(as_text=True)
            assert response.get_json()["score"] == score
    return VerifiedClass(app, url)


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VerifiedClass]:
    root = tmp_path_factory.mktemp("verified")
    made = verified_class(f"sqlite:///{root / 'verified.sqlite'}", root)
    yield made
    made.app.extensions["grader_db"].dispose()


def logged_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_the_rows_carry_the_latest_verified_beside_the_best_self_reported(
    verified: VerifiedClass,
) -> None:
    with verified.app.app_context():
        from webhook.database import get_session

        session = get_session()
        course = queries.course_by_slug(session, COURSE)
        assert course is not None
        rows = {row.student_id: row for row in queries.student_rows(session, course)}
    assert {who: (r.best_score, r.verified_score) for who, r in rows.items()} == {
        "ann": (28, 20),  # the latest verified (20), not the best verified (26)
        "bob": (20, 28),
        "cy": (26, 26),
        "dee": (None, 26),
        "eve": (28, None),
    }
    assert {who for who, r in rows.items() if r.self_higher} == SELF_HIGHER
    assert rows["ann"].verified_by == "ta"


def test_the_course_page_flags_a_self_reported_best_above_the_verified(
    verified: VerifiedClass,
) -> None:
    page = logged_in(verified.app).get(ASSIGNMENT).get_data(as_text=True)
    flagged = set(re.findall(r'<tr class="[^"]*\bself-higher\b[^"]*" data-student="([^"]+)"', page))
    assert flagged == SELF_HIGHER
    assert page.count("⚑ self-reported higher") == len(SELF_HIGHER)
    assert "best self-reported 28 is above the latest verified 20 (by ta)" in page
    assert "<strong>1</strong> self-reported above verified" in page
    assert "verified reports, else self-reported" in page  # the assignment's grade policy
    sorted_page = logged_in(verified.app).get(f"{ASSIGNMENT}?sort=verified&dir=desc")
    order = re.findall(r'data-student="([^"]+)"', sorted_page.get_data(as_text=True))
    assert order == ["bob", "cy", "dee", "ann", "eve"]  # 28, 26, 26, 20, none last


def test_the_student_page_says_who_verified(verified: VerifiedClass) -> None:
    page = logged_in(verified.app).get(f"/gradebook/{COURSE}/students/ann").get_data(as_text=True)
    assert page.count("verified by ta") == 2


@pytest.fixture(scope="module")
def verified_server(verified: VerifiedClass) -> Iterator[str]:
    with served_in_thread(verified.app) as url:
        yield url


def test_the_instructor_sees_the_verified_column_and_the_flag(
    verified_server: str,
    browser: WebDriver,
) -> None:
    browser.get(f"{verified_server}/login?next={ASSIGNMENT}")
    browser.find_element(By.ID, "username").send_keys(USERNAME)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    headers = [th.text.strip() for th in browser.find_elements(By.CSS_SELECTOR, "#roster th")]
    assert headers[2:5] == ["Latest", "Best", "Verified"]
    for who in CLASS:
        row = browser.find_element(By.CSS_SELECTOR, f"#roster tr[data-student='{who}']")
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        badges = row.find_elements(By.CSS_SELECTOR, ".badge-self-higher")
        assert bool(badges) == (who in SELF_HIGHER), (who, cells)
        if who in SELF_HIGHER:
            assert cells[3] == "28/28" and cells[4] == "20/28"
            assert badges[0].is_displayed() and "self-reported higher" in badges[0].text
            title = badges[0].get_attribute("title") or ""
            assert title == "best self-reported 28 is above the latest verified 20 (by ta)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # beside test_browser's, never wiping them
    snap(browser, SCREENSHOTS, "10-verified-beside-self")
