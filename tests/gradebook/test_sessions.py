"""The session cookie as headless Chromium keeps it, and what logging out does to a copy
of it (issue 11, finding 5): ``SameSite=Lax`` and ``HttpOnly`` as the browser stored
them, and a cookie copied out of the browser before logout (another tab, a stolen one)
refused afterwards.
"""

from __future__ import annotations

from typing import Any

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from devlab.server.seeded import COURSE, PASSWORD, USERNAME

from .test_browser import follow, live_server

__all__ = ["live_server"]  # the fixture, shared with the walk-through


def test_logout_in_the_browser_ends_a_copied_cookie(
    browser: WebDriver, live_server: str, seeded: Any
) -> None:
    page = f"{live_server}/gradebook/{COURSE}/"
    browser.delete_all_cookies()
    browser.get(page)
    browser.find_element(By.ID, "username").send_keys(USERNAME)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.current_url == page

    cookies = {cookie["name"]: cookie for cookie in browser.get_cookies()}
    session = cookies["session"]
    assert session["sameSite"] == "Lax"
    assert session["httpOnly"] is True
    assert session["secure"] is False  # plain HTTP on loopback; GRADER_SECURE_COOKIES sets it

    copied = {"session": session["value"]}
    assert requests.get(page, cookies=copied, allow_redirects=False, timeout=10).status_code == 200

    follow(browser, browser.find_element(By.CSS_SELECTOR, ".logout button"))
    assert "/login" in browser.current_url
    after = requests.get(page, cookies=copied, allow_redirects=False, timeout=10)
    assert after.status_code == 302
    assert "/login" in after.headers["Location"]
