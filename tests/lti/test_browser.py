"""Launches in headless Chromium: the simulated LMS's auto-submitting login form, then the
tool's page, as a student and as an instructor would see them (screenshots in
``artifacts/screenshots/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from devlab.browser import SCREENSHOTS, headless_chromium
from devlab.server.lms import ROLE_INSTRUCTOR

from .conftest import Lti


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def wait_for(driver: WebDriver, element_id: str) -> str:
    WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )
    return driver.find_element(By.ID, element_id).text


def test_a_student_launches_the_lab_in_chromium(lti: Lti, chromium: WebDriver) -> None:
    lti.sim.add_user("lms-dee", name="Dee Park", email="dee@lms.example.edu")
    chromium.get(lti.sim.launch_url("lms-dee"))
    command = wait_for(chromium, "submit-command")
    assert command.startswith("GRADER_TOKEN=gls_") and command.endswith(f"--submit {lti.base}")
    assert wait_for(chromium, "course") == "Docker 101"
    assert wait_for(chromium, "grade") == "none yet"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chromium.save_screenshot(str(SCREENSHOTS / "lti-student-launch.png"))
    token = command.split()[0].removeprefix("GRADER_TOKEN=")
    assert lti.submit_with(token).status_code == 201
    chromium.get(lti.sim.launch_url("lms-dee"))  # launched again: the grade is there
    assert wait_for(chromium, "grade") == "28/28"


def test_an_instructor_launches_into_the_gradebook_in_chromium(
    lti: Lti, chromium: WebDriver
) -> None:
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR, email="prof@lms.example.edu")
    chromium.get(lti.sim.launch_url("lms-prof"))
    WebDriverWait(chromium, 20).until(expected_conditions.url_contains("/gradebook/docker-101/"))
    assert wait_for(chromium, "roster-heading") == "Students"
    assert chromium.find_element(By.ID, "lms-roster-sync").text == "Sync roster from the LMS"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chromium.save_screenshot(str(SCREENSHOTS / "lti-instructor-launch.png"))


def test_a_refused_launch_says_why_in_chromium(lti: Lti, chromium: WebDriver) -> None:
    lti.sim.add_user("lms-dee")
    lti.sim.spoil = lambda claims: claims.update(_rogue_key=True)
    chromium.get(lti.sim.launch_url("lms-dee"))
    reason = wait_for(chromium, "reason")
    assert "signature does not match" in reason
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chromium.save_screenshot(str(SCREENSHOTS / "lti-refused-launch.png"))
