"""The gradebook in a real browser: Debian's headless Chromium against a real server.

The app is served by Werkzeug's threaded server on a free loopback port, with the
seeded SQLite file. Screenshots of every page land in ``artifacts/screenshots/``
(git-ignored) so that a person can see what the instructor sees.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from devlab.browser import SCREENSHOTS, served_in_thread


@pytest.fixture(scope="module")
def live_server(
    seeded: Any, app_factory: Callable[..., Flask], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app on a real HTTP server on 127.0.0.1 and a port the OS picked."""
    app = app_factory(seeded.url, tmp_path_factory.mktemp("instance"))
    try:
        with served_in_thread(app) as url:
            yield url
    finally:
        app.extensions["grader_db"].dispose()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def follow(driver: WebDriver, element: WebElement) -> None:
    """Click a link or button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(lambda _: replaced(page))


def replaced(page: WebElement) -> bool:
    """Whether ``page`` (the old document's root) is gone.

    Chromedriver sometimes answers the staleness probe of a node whose document is being
    replaced with "Node with given id does not belong to the document" instead of a
    stale-element error (SeleniumHQ/selenium#15401): that node is stale too.
    """
    try:
        return bool(expected_conditions.staleness_of(page)(None))
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def snap(driver: WebDriver, folder: Path, name: str) -> None:
    """A screenshot of the whole page, however long."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 600), 6000))
    assert driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(1280, 900)


def test_instructor_walks_through_the_gradebook(
    live_server: str, browser: WebDriver, screenshots: Path, seeded: Any
) -> None:
    # Not logged in: the gradebook sends us to the login form.
    browser.get(f"{live_server}/gradebook/")
    assert "/login" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Instructor login"
    snap(browser, screenshots, "01-login")

    # A wrong password is refused, with a message.
    browser.find_element(By.ID, "username").send_keys(seeded.username)
    browser.find_element(By.ID, "password").send_keys("not the password")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "Wrong username or password" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    snap(browser, screenshots, "02-login-refused")

    # The right one lands on the course (the only one) where the login was asked for.
    browser.find_element(By.ID, "password").send_keys(seeded.password)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.current_url == f"{live_server}/gradebook/{seeded.course}/"

    # The course page: every student's final grade for each assignment (one here).
    grades = browser.find_elements(By.CSS_SELECTOR, "#grades tbody tr")
    assert len(grades) == seeded.students
    ann = browser.find_element(By.CSS_SELECTOR, "#grades tr[data-student='zz-ann']")
    cell = ann.find_element(By.CSS_SELECTOR, "td.grade").text
    # her full report counts; her other one is held back by an open flag, said in words
    assert cell.split()[:3] == [str(seeded.rubric.max_score), "⚑", "flagged"], cell
    snap(browser, screenshots, "03-course")

    # Its assignment's page: every student on the roster, Ann done and flagged.
    follow(browser, browser.find_element(By.CSS_SELECTOR, "#grades th[data-assignment] a"))
    assert browser.current_url == f"{live_server}/gradebook/{seeded.course}/a/docker_beginners"
    rows = browser.find_elements(By.CSS_SELECTOR, "#roster tbody tr")
    assert len(rows) == seeded.students
    ann = browser.find_element(By.CSS_SELECTOR, "#roster tr[data-student='zz-ann']")
    cells = [cell.text for cell in ann.find_elements(By.TAG_NAME, "td")]
    full = f"{seeded.rubric.max_score}/{seeded.rubric.max_score}"
    assert cells[:2] == ["zz-ann", "Ann Example"]
    assert cells[2] == full and cells[3] == full and cells[4] == "—" and cells[5] == "2"
    assert "done" in cells[7] and "1 flagged" in cells[7]
    assert "done" in (ann.get_attribute("class") or "").split()

    # The chart: one drawn bar per rubric check, in rubric order, wide as its rate.
    bars = browser.find_elements(By.CSS_SELECTOR, "svg#passrate-chart rect.bar")
    assert [bar.get_attribute("data-check") for bar in bars] == list(seeded.rubric)
    widths = [float(bar.get_attribute("width") or 0) for bar in bars]
    rates = [int(bar.get_attribute("data-rate") or 0) for bar in bars]
    assert any(w > 0 for w in widths)
    assert all((w > 0) == (r > 0) for w, r in zip(widths, rates, strict=True))
    drawn = [bar.rect["width"] for bar in bars if float(bar.get_attribute("width") or 0) > 0]
    assert all(width > 0 for width in drawn), "the browser laid the bars out with no size"
    label = browser.find_element(By.ID, "passrate-title").get_attribute("textContent")
    assert label == "Pass rate of each check"
    snap(browser, screenshots, "03-assignment")

    # Sorting by best score, highest first: the done students lead.
    follow(browser, browser.find_element(By.LINK_TEXT, "Best"))
    header = browser.find_element(By.CSS_SELECTOR, "th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"
    first = browser.find_element(By.CSS_SELECTOR, "#roster tbody tr")
    assert "done" in (first.get_attribute("class") or "").split()

    # Drill down: Ann's history, two reports and two points on the chart.
    follow(browser, browser.find_element(By.LINK_TEXT, "zz-ann"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ann Example"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg#score-chart circle.point")) == 2
    snap(browser, screenshots, "04-student")

    # The flagged report: its reason, and the checks that failed with their hints.
    follow(browser, browser.find_element(By.LINK_TEXT, f"#{seeded.ann_flagged}"))
    assert "unknown grader version 9.9.9" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    checks = browser.find_elements(By.CSS_SELECTOR, "table.checks tbody tr")
    assert len(checks) == len(seeded.rubric)
    failed = browser.find_elements(By.CSS_SELECTOR, "tr.check-failed")
    assert [row.get_attribute("data-check") for row in failed] == [
        "tweet.serves",
        "figlet.committed",
    ]
    assert "docker run … (tweet.serves)" in failed[0].text
    snap(browser, screenshots, "05-submission")

    # Logging out ends the session: the gradebook asks for the login again.
    follow(browser, browser.find_element(By.CSS_SELECTOR, ".logout button"))
    assert "/login" in browser.current_url
    browser.get(f"{live_server}/gradebook/{seeded.course}/")
    assert "/login" in browser.current_url


@pytest.fixture(scope="module")
def flagged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A course with a copied and a hand-typed report, served like ``live_server``."""
    from .conftest import flagged_class

    folder = tmp_path_factory.mktemp("flagged")
    made = flagged_class(f"sqlite:///{folder / 'flagged.sqlite'}", folder)
    try:
        with served_in_thread(made.app) as url:
            yield url, made
    finally:
        made.app.extensions["grader_db"].dispose()


def moodle_grades(base: str, **query: str) -> dict[str, str]:
    """Roster id → grade, as a script fetches the export (HTTP basic, like curl -u)."""
    from devlab.server.seeded import PASSWORD, USERNAME

    response = requests.get(
        f"{base}/gradebook/docker-101/export.csv", params={"format": "moodle", **query},
        auth=(USERNAME, PASSWORD), timeout=10,
    )  # fmt: skip
    response.raise_for_status()
    return {row[0]: row[-1] for row in list(csv.reader(io.StringIO(response.text)))[1:]}


def test_instructor_accepts_a_flag_and_rejects_a_copy(
    flagged_server: tuple[str, Any], browser: WebDriver, screenshots: Path
) -> None:
    from devlab.server.seeded import PASSWORD, USERNAME

    base, made = flagged_server
    assert moodle_grades(base) == {"ann": "26", "bob": "", "carol": ""}  # ann showed it first

    browser.get(f"{base}/gradebook/{made.course}/")
    browser.find_element(By.ID, "username").send_keys(USERNAME)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    bob = browser.find_element(By.CSS_SELECTOR, "#grades tr[data-student='bob']")
    assert "flagged" in bob.text  # the course page marks his held-back copy in words

    # From the course page to the flags: who shares evidence with whom, and why.
    follow(browser, browser.find_element(By.CSS_SELECTOR, "a.flags-link"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Flagged reports"
    # Issue 20: ann's and bob's shared evidence is one entry listing both, ann (who showed
    # it first) marked; carol's flag is its own entry.
    group = browser.find_element(By.CSS_SELECTOR, "#flags tr.group")
    assert "ann (first, counts)" in group.text and "bob" in group.text
    rows = {
        row.get_attribute("data-student"): row
        for row in browser.find_elements(By.CSS_SELECTOR, "#flags tbody tr[data-student]")
    }
    assert set(rows) == {"carol"}
    snap(browser, screenshots, "06-flags")

    # Accept carol's flag, with a note: her report counts again.
    rows["carol"].find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("her own laptop")
    follow(browser, rows["carol"].find_element(By.CSS_SELECTOR, "button.accept"))
    assert "accepted" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert moodle_grades(base) == {"ann": "26", "bob": "", "carol": "28"}

    # Reject bob's copy, on the group's page (its flags one by one): it never counts, even
    # when flagged reports are counted.
    group = browser.find_element(By.CSS_SELECTOR, "#flags tr.group")
    follow(browser, group.find_element(By.PARTIAL_LINK_TEXT, "report"))
    bob = browser.find_element(By.CSS_SELECTOR, "#flags tr[data-student='bob']")
    assert "shares evidence with ann" in bob.text and "other student: ann" in bob.text
    follow(browser, bob.find_element(By.CSS_SELECTOR, "button.reject"))
    assert "rejected" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    left = browser.find_elements(By.CSS_SELECTOR, "#flags tbody tr")
    assert [row.get_attribute("data-student") for row in left] == []
    assert moodle_grades(base) == {"ann": "26", "bob": "", "carol": "28"}

    # The decisions, with who and when: the group's, then every entry's.
    follow(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Decided"))
    decided = browser.find_element(By.ID, "flags").text
    assert f"by {USERNAME}" in decided and "report rejected" in decided
    follow(browser, browser.find_element(By.LINK_TEXT, "All flags"))
    decided = browser.find_element(By.ID, "flags").text
    assert f"by {USERNAME}" in decided and "her own laptop" in decided
    snap(browser, screenshots, "07-flags-decided")

    # The course page's export form: "reports with open flags" ticked; none is left open.
    follow(browser, browser.find_element(By.LINK_TEXT, "Docker 101"))
    browser.find_element(By.CSS_SELECTOR, "input[name=include_flagged]").click()
    assert browser.find_element(By.CSS_SELECTOR, "input[name=include_flagged]").is_selected()
    assert moodle_grades(base, include_flagged="1") == {"ann": "26", "bob": "", "carol": "28"}
    snap(browser, screenshots, "08-overview-with-flags")
