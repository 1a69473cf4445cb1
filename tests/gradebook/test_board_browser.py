"""The class board in a real browser: headless Chromium polls while students post progress.

A class of 51 on a SQLite file served on a real port: one student's step turns its cell
green within 3 s, without a reload; 50 others posting over HTTP fill the grid and the
common problems; the stuck list, the sorts and the large type work from the keyboard.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from devlab.browser import SCREENSHOTS, headless_chromium, served_in_thread
from devlab.server.enrolment import INSTRUCTOR, Classroom, app_config, enrol, migrated_sqlite
from webhook import create_app

LAB = "docker_beginners"
CLASS = ("ann", *(f"s{n:02d}" for n in range(50)))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Classroom]]:
    folder = tmp_path_factory.mktemp("board")
    url = migrated_sqlite(folder / "grader.sqlite")
    classroom = enrol(url, students=CLASS)
    app = create_app(app_config(url, PROGRESS_RATE_LIMIT="1000/minute"))
    runner = app.test_cli_runner()
    made = runner.invoke(args=["assignment", "set", "docker-101", LAB, "--progress", "on"])
    assert made.exit_code == 0, made.output
    try:
        with served_in_thread(app) as base:
            yield base, classroom
    finally:
        app.extensions["grader_db"].dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def progress(base: str, classroom: Classroom, student: str, *checks: tuple[str, str, str]) -> None:
    body = {"lab": LAB, "checks": [{"id": i, "status": s, "message": m} for i, s, m in checks]}
    answer = requests.post(
        f"{base}/api/v1/progress", json=body, headers=classroom.bearer(student), timeout=10
    )
    assert answer.status_code == 200, answer.text


def cell(driver: WebDriver, student: str, check: str) -> str:
    found = driver.find_elements(
        By.CSS_SELECTOR, f'#grid-body tr[data-student="{student}"] td[data-check="{check}"]'
    )
    return found[0].get_attribute("data-status") or "" if found else ""


def test_the_board_shows_each_step_within_3_s_and_fills_with_the_class(
    served: tuple[str, Classroom], browser: WebDriver
) -> None:
    base, classroom = served
    board = f"{base}/gradebook/docker-101/a/{LAB}/board"
    browser.get(board)
    assert "/login" in browser.current_url  # the board is behind the instructor login
    browser.find_element(By.ID, "username").send_keys(INSTRUCTOR[0])
    browser.find_element(By.ID, "password").send_keys(INSTRUCTOR[1], Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.current_url == board)
    WebDriverWait(browser, 10).until(lambda d: cell(d, "ann", "mydb.running") == "pending")

    # One student's step: the cell turns green (and says ✓) within 3 s, with no reload.
    root = browser.find_element(By.TAG_NAME, "html")
    progress(base, classroom, "ann", ("mydb.running", "failed", "container abc0123456789 down"))
    WebDriverWait(browser, 3).until(lambda d: cell(d, "ann", "mydb.running") == "failed")
    started = time.monotonic()
    progress(base, classroom, "ann", ("mydb.running", "passed", ""))
    WebDriverWait(browser, 3, poll_frequency=0.05).until(
        lambda d: cell(d, "ann", "mydb.running") == "passed"
    )
    shown_after = time.monotonic() - started
    assert shown_after < 3.0
    green = browser.find_element(
        By.CSS_SELECTOR, '#grid-body tr[data-student="ann"] td[data-check="mydb.running"]'
    )
    assert green.text == "✓" and "passed" in (green.get_attribute("aria-label") or "")
    assert browser.find_element(By.TAG_NAME, "html") == root  # the same page, not reloaded

    # A synthetic class of 50 posts its progress: the grid fills, the problems group.
    for n, student in enumerate(CLASS[1:]):
        if n % 5 == 0:
            said = ("tweet.image", "passed", "")
        elif n % 5 in (1, 2, 3):
            said = ("tweet.serves", "failed", f"port {8000 + n} is closed on container {n:012x}")
        else:
            said = ("mydb.image", "failed", f"image 'mysql:{n}' is not 'mysql:8.0'")
        progress(base, classroom, student, ("hello.runs", "passed", ""), said)
    WebDriverWait(browser, 3).until(lambda d: cell(d, "s49", "hello.runs") == "passed")
    rows = browser.find_elements(By.CSS_SELECTOR, "#grid-body tr")
    assert len(rows) == len(CLASS)
    problems = browser.find_elements(By.CSS_SELECTOR, "#problems .problem")
    counts = [p.find_element(By.CSS_SELECTOR, ".problem-count").text for p in problems]
    assert counts == ["30", "10"]
    assert "tweet.serves" in problems[0].text

    # The keyboard: a problem opens to show who; sorting by name; large type for projectors.
    summary = problems[0].find_element(By.TAG_NAME, "summary")
    summary.send_keys(Keys.ENTER)
    assert "s01" in problems[0].find_element(By.CSS_SELECTOR, ".who").text
    by_name = browser.find_element(By.CSS_SELECTOR, '[data-sort="name"]')
    by_name.send_keys(Keys.ENTER)
    first = browser.find_element(By.CSS_SELECTOR, "#grid-body tr").get_attribute("data-student")
    assert first == "ann" and by_name.get_attribute("aria-pressed") == "true"
    large = browser.find_element(By.ID, "large-type")
    large.send_keys(Keys.ENTER)
    assert "large-type" in (browser.find_element(By.TAG_NAME, "body").get_attribute("class") or "")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(Path(SCREENSHOTS) / "board-large-type.png"))

    # The assignment's page links to its board.
    browser.get(f"{base}/gradebook/docker-101/a/{LAB}")
    browser.find_element(By.ID, "board-link").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url == board)


def test_the_board_page_is_for_the_course_instructors_only(
    served: tuple[str, Classroom],
) -> None:
    base, classroom = served
    page = requests.get(
        f"{base}/gradebook/docker-101/a/{LAB}/board", headers=classroom.bearer("ann"), timeout=10
    )
    assert "/login" in page.url  # a student's token opens no gradebook page
    data = requests.get(
        f"{base}/api/v1/courses/docker-101/assignments/{LAB}/board",
        headers=classroom.bearer("ann"),
        timeout=10,
    )
    assert data.status_code == 403
