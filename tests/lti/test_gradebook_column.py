"""The gradebook says what reached the LMS, what waits and what failed; its button syncs the
roster from the LMS."""

from __future__ import annotations

import re

from devlab.server.lms import ROLE_INSTRUCTOR, ROLE_LEARNER, User
from devlab.server.reports import report_xml

from .conftest import Lti


def lms_cell(page: str, student: str) -> str:
    row = re.search(rf'<tr[^>]*data-student="{student}">(.*?)</tr>', page, re.S)
    assert row is not None, page
    cell = re.search(r'<td class="lms lms-(\w+)"[^>]*>([^<]*)</td>', row[1])
    assert cell is not None, row[1]
    return f"{cell[1]}: {cell[2]}"


def gradebook(lti: Lti) -> str:
    return lti.browser.get(f"{lti.base}/gradebook/docker-101/", timeout=10).text


def test_the_lms_column_shows_sent_and_errors(lti: Lti) -> None:
    lti.sim.add_user("lms-ann", sourcedid="ann")
    lti.sim.add_user("lms-bob", sourcedid="bob")
    lti.launch("lms-ann")
    lti.launch("lms-bob")
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    lti.launch("lms-prof")
    assert lti.submit("ann", report_xml()).status_code == 201
    assert lti.submit("bob", report_xml(failing=("mydb.running",))).status_code == 201
    assert lms_cell(gradebook(lti), "ann") == "waiting: waiting"
    lti.sim.fail_scores("500")  # the first score sent (ann's or bob's) fails
    outcomes = lti.send_grades()
    failed = next(o for o in outcomes if o.error)
    page = gradebook(lti)
    who = "ann" if lti.sim.received[0].body["userId"] == "lms-ann" else "bob"
    assert lms_cell(page, who) == "error: ⚠ not sent (1 tries)"
    assert "the LMS answered 500" in page and failed.error.startswith("the LMS answered 500")
    lti.due_now()
    lti.send_grades()
    page = gradebook(lti)
    assert lms_cell(page, "ann") == "sent: ✓ 28 sent"
    assert lms_cell(page, "bob") == "sent: ✓ 26 sent"


def test_the_gradebook_button_syncs_the_roster_from_the_lms(lti: Lti) -> None:
    lti.sim.members = [
        User(f"lms-{n}", f"L {n}", f"l{n}@lms.example.edu", [ROLE_LEARNER]) for n in range(3)
    ]
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    page = lti.launch("lms-prof").text
    form = re.search(
        r'<form class="lms-sync" method="post" action="([^"]+)">.*?value="([^"]+)"', page
    )
    assert form is not None, page
    done = lti.browser.post(f"{lti.base}{form[1]}", data={"csrf_token": form[2]}, timeout=30)
    assert done.status_code == 200
    for n in range(3):
        assert f'data-student="l{n}"' in done.text
    refused = lti.browser.post(f"{lti.base}{form[1]}", data={}, timeout=30)
    assert refused.status_code == 400  # no CSRF token: nothing done
