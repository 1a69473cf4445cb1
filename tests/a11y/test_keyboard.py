"""The login and a flag's acceptance by keyboard alone (issue 24, item 4): Selenium sends only
keys (TAB, ENTER and text) to whatever has the focus, never a click, and each test asserts
that the decision took effect (the session opened or refused, the flag accepted and the
student's report counting again), and that the focus was visible on each control."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from devlab.browser import served_in_thread
from devlab.server.seeded import COURSE, PASSWORD, USERNAME
from tests.gradebook.conftest import FlaggedClass, flagged_class
from tests.gradebook.test_access import flag_status
from tests.gradebook.test_browser import moodle_grades, replaced

pytestmark = pytest.mark.a11y

#: Whether the focused element shows its focus (an outline, or the browser's focus ring).
FOCUS_SHOWN = """
const style = getComputedStyle(document.activeElement);
return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, FlaggedClass]]:
    """ann's own report, bob's copy (flagged with ann's) and carol's hand-typed one (flagged)."""
    made = flagged_class(f"sqlite:///{tmp_path / 'keyboard.sqlite'}", tmp_path)
    try:
        with served_in_thread(made.app) as base:
            yield base, made
    finally:
        made.app.extensions["grader_db"].dispose()


def press(driver: WebDriver, *keys: str) -> None:
    """Keys to whatever has the focus, as a person types them."""
    ActionChains(driver).send_keys(*keys).perform()


def focused(driver: WebDriver) -> WebElement:
    return driver.switch_to.active_element


def tab_to(driver: WebDriver, css: str, limit: int = 60) -> WebElement:
    """Press TAB until the focus is on the element ``css`` finds; fail after ``limit``."""
    wanted = driver.find_element(By.CSS_SELECTOR, css)
    for _ in range(limit):
        press(driver, Keys.TAB)
        if focused(driver) == wanted:
            assert driver.execute_script(FOCUS_SHOWN), f"{css}: focused, but nothing shows it"
            return wanted
    pytest.fail(f"{limit} presses of TAB never reached {css}", pytrace=False)


def enter(driver: WebDriver) -> None:
    """Press ENTER on the focused control and wait for the next page."""
    page = driver.find_element(By.TAG_NAME, "html")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 15).until(lambda _: replaced(page))


def log_in_by_keyboard(driver: WebDriver, password: str) -> None:
    """On the login page: the name field has the focus; type, TAB, type, TAB, ENTER."""
    name = driver.find_element(By.ID, "username")
    # autofocus: the browser applies it once the page is shown, a moment after it loaded
    WebDriverWait(driver, 5).until(lambda _: focused(driver) == name, "no autofocus on the name")
    # select what a refused attempt left there, then type over it
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    press(driver, USERNAME)
    tab_to(driver, "#password", limit=1)
    press(driver, password)
    tab_to(driver, "form button[type=submit]", limit=1)
    enter(driver)


def test_the_login_form_works_by_keyboard_alone(
    site: tuple[str, FlaggedClass], chromium: WebDriver
) -> None:
    base, _ = site
    chromium.delete_all_cookies()
    chromium.get(f"{base}/gradebook/{COURSE}/")
    assert "/login" in chromium.current_url

    log_in_by_keyboard(chromium, "not the password")
    assert "/login" in chromium.current_url  # refused: still the login form
    assert "Wrong username or password" in chromium.find_element(By.CSS_SELECTOR, ".flash").text
    assert not chromium.find_elements(By.CSS_SELECTOR, ".logout")

    log_in_by_keyboard(chromium, PASSWORD)
    assert chromium.current_url == f"{base}/gradebook/{COURSE}/"  # where the login was asked
    assert chromium.find_element(By.CSS_SELECTOR, ".logout .who").text == USERNAME
    chromium.delete_all_cookies()


def test_a_flag_is_accepted_by_keyboard_alone(
    site: tuple[str, FlaggedClass], chromium: WebDriver
) -> None:
    base, made = site
    assert moodle_grades(base)["carol"] == ""  # her flag holds her report back
    chromium.delete_all_cookies()
    chromium.get(f"{base}/gradebook/{COURSE}/flags")
    log_in_by_keyboard(chromium, PASSWORD)
    assert chromium.current_url == f"{base}/gradebook/{COURSE}/flags"

    row = chromium.find_element(By.CSS_SELECTOR, "#flags tr[data-student='carol']")
    flag = int(row.get_attribute("data-flag") or 0)
    assert flag_status(made, flag) == "open"
    tab_to(chromium, f"#note-{flag}")
    press(chromium, "her own laptop")
    tab_to(chromium, f"#flags tr[data-flag='{flag}'] button.accept", limit=1)
    enter(chromium)

    assert f"Flag #{flag} accepted" in chromium.find_element(By.CSS_SELECTOR, ".flash").text
    assert flag_status(made, flag) == "accepted"
    assert moodle_grades(base)["carol"] == "28"  # her report counts again
    chromium.get(f"{base}/gradebook/{COURSE}/flags?show=decided")
    decided = chromium.find_element(By.CSS_SELECTOR, f"#flags tr[data-flag='{flag}']").text
    assert "accepted" in decided and "her own laptop" in decided and f"by {USERNAME}" in decided
    chromium.delete_all_cookies()
