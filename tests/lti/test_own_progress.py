"""A student's launch page shows their own class-board progress, and only theirs (issue 22).

Through the LMS simulator: progress posted over HTTP with the students' tokens, the page
opened by a real launch. The page is read as of the launch (no polling endpoint: there is
no student-scoped URL to ask with another's id), so the attacks are on what a student can
change: the launch itself, and their token on the board's API.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import requests

from devlab.server.reports import report_xml
from tests.server.progress import LAB, document

from .conftest import Lti

BOB_SECRET = "port 4711 on the machine of bob is closed"


def post(lti: Lti, student: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{lti.base}/api/v1/progress", json=body, headers=lti.classroom.bearer(student), timeout=30
    )


def turn_on(lti: Lti) -> None:
    made = lti.cli("assignment", "set", lti.classroom.course, LAB, "--progress", "on")
    assert made.exit_code == 0, made.output


def class_in_progress(lti: Lti) -> None:
    """Progress on; ann has one check passed and one failing, bob a failure of his own."""
    turn_on(lti)
    ann = document(
        ("hello.runs", "passed", ""), ("mydb.running", "failed", "no container ran hello-world")
    )
    assert post(lti, "ann", ann).status_code == 200
    assert post(lti, "bob", document(("hello.runs", "failed", BOB_SECRET))).status_code == 200
    lti.sim.add_user("lms-ann", sourcedid="ann")
    lti.sim.add_user("lms-bob", sourcedid="bob")


def section(page: str) -> str:
    found = re.search(r'<section id="progress".*?</section>', page, re.S)
    assert found is not None, page
    return found[0]


def test_the_launch_page_shows_the_students_own_progress_in_symbols_and_words(lti: Lti) -> None:
    class_in_progress(lti)
    page = lti.launch("lms-ann")
    assert page.status_code == 200, page.text
    shown = section(page.text)
    assert re.search(r'id="check-hello.runs"><strong class="status">✓ passed', shown, re.S)
    assert re.search(r'id="check-mydb.running"><strong class="status">✗ failed', shown, re.S)
    assert "no container ran hello-world" in shown  # the failing check's message
    assert "1 of 2 checks passed" in shown
    assert re.search(r'<time id="progress-changed" datetime="[^"]+">\d+ s ago</time>', shown)
    assert BOB_SECRET not in page.text


def test_another_students_progress_is_never_on_the_page(lti: Lti) -> None:
    class_in_progress(lti)
    bob = lti.launch("lms-bob")
    assert BOB_SECRET in section(bob.text)
    ann = lti.launch("lms-ann")
    assert ann.status_code == 200 and BOB_SECRET not in ann.text
    assert "no container ran hello-world" not in bob.text


def test_a_student_who_changes_the_launchs_user_id_is_refused_and_sees_nothing(lti: Lti) -> None:
    class_in_progress(lti)
    form = lti.platform_form("lms-ann")
    head, payload, signature = form["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "lms-bob"  # ann asks for bob's page by changing the id in her launch
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    form["id_token"] = f"{head}.{changed}.{signature}"
    page = lti.post_form(form)
    assert page.status_code == 403 and page.headers["X-LTI-Refused"] == "bad_signature"
    assert BOB_SECRET not in page.text


def test_a_students_token_cannot_read_progress_through_the_board_api(lti: Lti) -> None:
    class_in_progress(lti)
    board = f"{lti.base}/api/v1/courses/{lti.classroom.course}/assignments/{LAB}/board"
    asked = requests.get(board, headers=lti.classroom.bearer("ann"), timeout=30)
    assert asked.status_code == 403 and BOB_SECRET not in asked.text
    for guessed in ("bob", "2", "ann"):  # no student-scoped progress URL exists to guess
        url = f"{lti.base}/lti/progress/{guessed}"
        answer = requests.get(url, headers=lti.classroom.bearer("ann"), timeout=30)
        assert answer.status_code == 404 and BOB_SECRET not in answer.text


def test_no_progress_section_while_the_board_is_off(lti: Lti) -> None:
    class_in_progress(lti)
    made = lti.cli("assignment", "set", lti.classroom.course, LAB, "--progress", "off")
    assert made.exit_code == 0, made.output
    page = lti.launch("lms-ann")
    assert page.status_code == 200 and 'id="progress"' not in page.text
    assert "no container ran hello-world" not in page.text


def test_no_progress_section_before_the_student_sends_any(lti: Lti) -> None:
    turn_on(lti)
    lti.sim.add_user("lms-ann", sourcedid="ann")
    page = lti.launch("lms-ann")
    assert page.status_code == 200 and 'id="progress"' not in page.text


def canvas_csv(lti: Lti, path: Path) -> bytes:
    made = lti.cli("grades", "export", lti.classroom.course, "--format", "canvas", "-o", str(path))
    assert made.exit_code == 0, made.output
    return path.read_bytes()


def test_progress_sends_nothing_to_the_lms_and_changes_no_export(lti: Lti, tmp_path: Path) -> None:
    lti.sim.add_user("lms-ann", sourcedid="ann")
    assert lti.launch("lms-ann").status_code == 200
    assert lti.submit("ann", report_xml(failing=("mydb.running",))).status_code == 201
    assert [o.sent is not None for o in lti.send_grades()] == [True]
    received, before = len(lti.sim.received), canvas_csv(lti, tmp_path / "before.csv")
    assert b"ann" in before and received == 1
    turn_on(lti)
    every = [("hello.runs", "passed", ""), ("mydb.running", "passed", "")]
    for checks in (every[:1], [("mydb.running", "failed", "not yet")], every):
        assert post(lti, "ann", document(*checks)).status_code == 200
        assert post(lti, "bob", document(*checks)).status_code == 200
    assert lti.launch("lms-ann").status_code == 200  # the page with her progress on it
    lti.due_now()
    assert lti.send_grades() == []  # nothing waits to be sent
    assert len(lti.sim.received) == received  # the LMS got no new score
    assert canvas_csv(lti, tmp_path / "after.csv") == before  # byte-identical
