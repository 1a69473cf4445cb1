"""The class board in a real browser: headless Chromium polls while students post progress.

A class of 51 on a SQLite file served on a real port: one student's step turns its cell
green within 3 s, without a reload; 50 others posting over HTTP fill the grid and the
common problems; past the stuck limit (the board's clock moved on) the stalled ones are
listed as stuck, on top; the sorts and the large type work from the keyboard.
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

from devlab.browser import SCREENSHOTS, served_in_thread
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


def progress(base: str, classroom: Classroom, student: str, *checks: tuple[str, str, str]) -> None:
    body = {"lab": LAB, "checks": [{"id": i, "status": s, "message": m} for i, s, m in checks]}
    answer = requests.post(
        f"{base}/api/v1/progress", json=body, headers=classroom.bearer(student), timeout=10
    )
    assert answer.status_code == 200, answer.text


def cell(driver: WebDriver, student: str, check: str, what: str = "status") -> str:
    """A cell's status (or its text, its label), read at once: the grid may be redrawn
    between finding an element and reading it."""
    script = (
        "const c = document.querySelector(arguments[0]);"
        "if (!c) return '';"
        "return {status: c.dataset.status, text: c.textContent,"
        " label: c.getAttribute('aria-label')}[arguments[1]] || '';"
    )
    selector = f'#grid-body tr[data-student="{student}"] td[data-check="{check}"]'
    return str(driver.execute_script(script, selector, what))


def test_the_board_shows_each_step_within_3_s_and_fills_with_the_class(
    served: tuple[str, Classroom], browser: WebDriver, monkeypatch: pytest.MonkeyPatch
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
    assert cell(browser, "ann", "mydb.running", "text") == "✓"
    assert "passed" in cell(browser, "ann", "mydb.running", "label")
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

    # A stalled step: past the assignment's limit (5 min; the board's clock moved on) the
    # student is listed as stuck, with the message, and their row goes on top.
    later = time.time() + 5 * 60 + 20
    monkeypatch.setattr("webhook.board.api.clock", lambda: later)
    WebDriverWait(browser, 5).until(lambda d: "s01" in d.find_element(By.ID, "stuck").text)
    stuck = browser.find_element(By.ID, "stuck").text
    assert "tweet.serves" in stuck and "is closed on container" in stuck
    top = browser.find_element(By.CSS_SELECTOR, "#grid-body tr")
    assert "is-stuck" in (top.get_attribute("class") or "")
    assert "ann" not in stuck  # ann's checks pass

    # The keyboard: a problem opens to show who, and stays open (focused) while the board
    # redraws; sorting by name; large type for projectors.
    browser.find_element(By.CSS_SELECTOR, "#problems .problem summary").send_keys(Keys.ENTER)
    who = "#problems .problem details[open] .who"
    assert "s01" in browser.find_element(By.CSS_SELECTOR, who).text
    progress(base, classroom, "s02", ("hello.runs", "passed", ""), ("figlet.runs", "passed", ""))
    WebDriverWait(browser, 3).until(lambda d: cell(d, "s02", "figlet.runs") == "passed")
    assert "s01" in browser.find_element(By.CSS_SELECTOR, who).text  # still open, redrawn
    focused = browser.execute_script("return document.activeElement.dataset.key || ''")
    assert str(focused).startswith("tweet.serves|")
    by_name = browser.find_element(By.CSS_SELECTOR, '[data-sort="name"]')
    by_name.send_keys(Keys.ENTER)
    rows = browser.find_elements(By.CSS_SELECTOR, "#grid-body tr")
    order = [row.get_attribute("data-student") for row in rows]
    unstuck = [who for who, row in zip(order, rows, strict=True)
               if "is-stuck" not in (row.get_attribute("class") or "")]  # fmt: skip
    assert unstuck == sorted(unstuck) and unstuck[0] == "ann"  # by name, after the stuck
    assert by_name.get_attribute("aria-pressed") == "true"
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
