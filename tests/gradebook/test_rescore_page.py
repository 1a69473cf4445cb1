"""The gradebook's rescore page: the preview (GET) lists exactly the students whose grade a
rubric change changes; the confirm (POST, CSRF) applies it in the instructor's name; only
the course's instructors reach either; a confirm of an outdated preview applies nothing.

The class (``flagged_class``): ann's own report fails hello.runs (26 of 28), bob's copy of
it and carol's hand-typed one are flagged (no grade). tweet.dockerfile goes from 3 to 5
points: ann's grade 26 → 28; bob's and carol's reports are re-scored, their grades stay none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from devlab.browser import served_in_thread
from devlab.server.seeded import COURSE, PASSWORD, USERNAME, csrf_from
from submissions.rubric import shipped_rubric
from webhook.storage.db import make_engine
from webhook.storage.models import AssignmentRescore, Submission

from .conftest import FlaggedClass, flagged_class
from .test_access import BEE, log_in, two_courses  # noqa: F401 (fixture)
from .test_browser import follow

PAGE = f"/gradebook/{COURSE}/a/docker_beginners/rescore"


def new_version(made: FlaggedClass, tmp_path: Path, points: int) -> None:
    document = shipped_rubric().to_dict()
    for entry in document["checks"]:
        if entry["id"] == "tweet.dockerfile":
            entry["points"] = points
    path = tmp_path / f"rubric-{points}.json"
    path.write_text(json.dumps(document))
    result = made.app.test_cli_runner().invoke(
        args=["assignment", "rubric", COURSE, "docker_beginners", str(path)]
    )
    assert result.exit_code == 0, result.output


def scores(made: FlaggedClass) -> list[tuple[int, int]]:
    engine = make_engine(made.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Submission.score, Submission.rubric_version).order_by(Submission.id)
            ).all()
            return [(row[0], row[1]) for row in rows]
    finally:
        engine.dispose()


def history(made: FlaggedClass) -> list[tuple[str, str, int]]:
    engine = make_engine(made.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    AssignmentRescore.done_by,
                    AssignmentRescore.from_versions,
                    AssignmentRescore.to_version,
                )
            ).all()
            return [(row[0], row[1], row[2]) for row in rows]
    finally:
        engine.dispose()


def test_preview_then_confirm_through_the_form(
    two_courses: FlaggedClass,  # noqa: F811
    tmp_path: Path,
) -> None:
    made = two_courses
    teacher = log_in(made.app.test_client(), USERNAME, PASSWORD)
    page = teacher.get(PAGE)
    assert page.status_code == 200
    assert "Nothing to rescore: every report is scored by rubric v1" in page.get_data(as_text=True)

    new_version(made, tmp_path, 5)
    before = scores(made)
    page = teacher.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('<tr data-student="') == 1
    assert '<tr data-student="ann">' in html
    assert '<td class="old">26</td><td class="new">28</td>' in html
    assert "grades: 1 raised, 0 lowered, 2 unchanged" in html
    token = csrf_from(html)

    # no CSRF token: refused, nothing changed
    refused = teacher.post(PAGE, data={"version": "2"})
    assert refused.status_code == 400
    assert scores(made) == before

    # an instructor of another course: 404 for the page and the form alike
    bee = log_in(made.app.test_client(), *BEE)
    assert bee.get(PAGE).status_code == 404
    bee_token = csrf_from(bee.get("/gradebook/docker-202/").get_data(as_text=True))
    assert bee.post(PAGE, data={"version": "2", "csrf_token": bee_token}).status_code == 404
    assert scores(made) == before

    done = teacher.post(PAGE, data={"version": "2", "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith(PAGE)
    assert scores(made) == [(28, 2), (28, 2), (30, 2)]
    assert history(made) == [(USERNAME, "1", 2)]
    after = teacher.get(PAGE).get_data(as_text=True)
    assert "Re-scored with rubric v2" in after and "Nothing to rescore" in after
    assert '<table class="grid" id="history">' in after and "v1 → v2" in after


def test_a_confirm_of_an_outdated_preview_applies_nothing(
    two_courses: FlaggedClass,  # noqa: F811
    tmp_path: Path,
) -> None:
    made = two_courses
    teacher = log_in(made.app.test_client(), USERNAME, PASSWORD)
    new_version(made, tmp_path, 5)
    token = csrf_from(teacher.get(PAGE).get_data(as_text=True))  # previewed: v2
    new_version(made, tmp_path, 1)  # meanwhile, v3
    before = scores(made)
    answer = teacher.post(PAGE, data={"version": "2", "csrf_token": token})
    assert answer.status_code == 303
    assert scores(made) == before and history(made) == []
    said = teacher.get(PAGE).get_data(as_text=True)
    assert "Nothing re-scored: the rubric is at v3 now, not v2" in said
    assert teacher.get(f"/gradebook/{COURSE}/a/nope/rescore").status_code == 404


# --- In a real browser -------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FlaggedClass]]:
    made = flagged_class(f"sqlite:///{tmp_path / 'rescore.sqlite'}", tmp_path)
    try:
        with served_in_thread(made.app) as url:
            yield url, made
    finally:
        made.app.extensions["grader_db"].dispose()


def test_the_instructor_previews_and_confirms_in_chromium(
    served: tuple[str, FlaggedClass],
    browser: WebDriver,
    tmp_path: Path,
) -> None:
    base, made = served
    new_version(made, tmp_path, 5)
    browser.get(f"{base}{PAGE}")
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys(USERNAME)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.current_url == f"{base}{PAGE}"
    rows = browser.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
    assert [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows] == [
        ["ann", "Ann Example", "26", "28"]
    ]
    assert "1 raised, 0 lowered, 2 unchanged" in browser.find_element(By.ID, "summary").text
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form button.button"))
    assert browser.current_url == f"{base}{PAGE}"
    assert "Re-scored with rubric v2" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert browser.find_element(By.ID, "nothing").text.startswith("Nothing to rescore")
    [row] = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:] == [USERNAME, "v1 → v2", "3", "3", "1", "0"]
    assert scores(made) == [(28, 2), (28, 2), (30, 2)]
