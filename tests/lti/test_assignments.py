"""Issue 19 (LTI): each assignment of a course has its own LMS column, and its own grade
goes there, with its own maximum."""

from __future__ import annotations

from sqlalchemy import select

from devlab.server.reports import report_xml
from tests.server.test_assignments import TINY, add
from webhook.database import get_db
from webhook.lti.models import LtiLineItem, LtiScore
from webhook.storage.models import Assignment

from .conftest import Lti, lab_report


def test_each_assignment_grade_goes_to_its_own_line_item_with_its_own_maximum(lti: Lti) -> None:
    add(lti.classroom.url, TINY, "motd", title="Message of the day")
    lti.sim.add_user("lms-ann", sourcedid="ann")
    assert lti.launch("lms-ann").status_code == 200
    assert lti.submit("ann", report_xml()).status_code == 201
    assert lti.submit("ann", lab_report(TINY)).status_code == 201
    outcomes = lti.send_grades()
    assert sorted((o.assignment, o.sent) for o in outcomes) == [
        ("docker_beginners", 28),
        ("motd", 3),
    ]
    assert lti.send_grades() == []  # nothing left: each grade sent once
    items = {item["tag"]: item for item in lti.sim.line_items}
    assert set(items) == {"docker-lab-grader:docker_beginners", "docker-lab-grader:motd"}
    assert items["docker-lab-grader:motd"]["scoreMaximum"] == 3
    assert items["docker-lab-grader:motd"]["label"] == "Message of the day"
    assert items["docker-lab-grader:docker_beginners"]["scoreMaximum"] == 28
    by_item = {score.line_item: score.body for score in lti.sim.scores}
    assert len(lti.sim.scores) == 2 and len(by_item) == 2
    motd = by_item[items["docker-lab-grader:motd"]["id"]]
    docker = by_item[items["docker-lab-grader:docker_beginners"]["id"]]
    assert (motd["scoreGiven"], motd["scoreMaximum"]) == (3, 3)
    assert (docker["scoreGiven"], docker["scoreMaximum"]) == (28, 28)
    with lti.app.app_context():
        session = get_db().session()
        slugs = {pk: slug for pk, slug in session.execute(select(Assignment.id, Assignment.slug))}
        remembered = {
            slugs[row.assignment_id]: row.url for row in session.scalars(select(LtiLineItem))
        }
        sent = {
            slugs[row.assignment_id]: row.sent_grade for row in session.scalars(select(LtiScore))
        }
        session.close()
    assert remembered == {
        "docker_beginners": items["docker-lab-grader:docker_beginners"]["id"],
        "motd": items["docker-lab-grader:motd"]["id"],
    }
    assert sent == {"docker_beginners": 28, "motd": 3}


def test_a_failing_column_is_retried_alone(lti: Lti) -> None:
    """The LMS refuses one assignment's score: the other is delivered, and the retry sends
    only the refused one."""
    add(lti.classroom.url, TINY, "motd")
    lti.sim.add_user("lms-ann", sourcedid="ann")
    lti.launch("lms-ann")
    lti.submit("ann", report_xml())
    lti.submit("ann", lab_report(TINY))
    lti.sim.fail_scores("500")  # the first score sent (the first assignment's)
    outcomes = {o.assignment: o for o in lti.send_grades()}
    assert outcomes["docker_beginners"].error.startswith("the LMS answered 500")
    assert outcomes["motd"].sent == 3
    lti.due_now()
    assert [(o.assignment, o.sent) for o in lti.send_grades()] == [
        ("docker_beginners", 28),
        ("motd", None),
    ]
    assert sorted(s.body["scoreMaximum"] for s in lti.sim.scores) == [3, 28]
