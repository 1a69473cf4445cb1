"""NRPS roster sync over paged memberships, and deep linking creating the lab's column."""

from __future__ import annotations

from sqlalchemy import func, select

from devlab.server.lms import ROLE_INSTRUCTOR, ROLE_LEARNER, User
from webhook.database import get_db
from webhook.lti.models import LtiMember, LtiPassback
from webhook.storage.models import Student

from .conftest import Lti
from .test_deep_linking_assignments import deep_link


def roster(lti: Lti) -> set[str]:
    with lti.app.app_context():
        session = get_db().session()
        ids = set(session.scalars(select(Student.student_id)))
        session.close()
    return ids


def test_three_pages_of_members_enrol_every_learner(lti: Lti) -> None:
    lti.sim.page_size = 4
    lti.sim.members = [
        User(f"lms-{n}", f"Learner {n}", f"learner{n}@lms.example.edu", [ROLE_LEARNER])
        for n in range(10)
    ] + [User("lms-prof", "Prof", "prof@lms.example.edu", [ROLE_INSTRUCTOR])]
    lti.sim.members[0].sourcedid = "ann"  # already on the roster: bound, not enrolled again
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    assert lti.launch("lms-prof").status_code == 200  # the context and its NRPS endpoint
    result = lti.cli("lti", "roster-sync", "docker-101")
    assert result.exit_code == 0, result.output
    assert "10 learners from 1 LMS courses, 9 new" in result.output
    assert roster(lti) == {"ann", "bob"} | {f"learner{n}" for n in range(1, 10)}
    with lti.app.app_context():
        session = get_db().session()
        assert session.scalar(select(func.count()).select_from(LtiMember)) == 11
        assert session.scalar(select(func.count()).select_from(LtiPassback)) == 10
        session.close()
    again = lti.cli("lti", "roster-sync", "docker-101")
    assert "10 learners from 1 LMS courses, 0 new" in again.output


def test_roster_sync_of_an_unknown_course_says_so(lti: Lti) -> None:
    result = lti.cli("lti", "roster-sync", "nope")
    assert result.exit_code == 3 and "no course 'nope'" in result.output


def test_deep_linking_creates_the_assignments_column_and_passback_uses_it(lti: Lti) -> None:
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    deep_link(lti, "docker_beginners", "docker_beginners")
    [item] = lti.sim.deep_link_responses[0]["content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == f"{lti.base}/lti/launch"
    assert item["lineItem"]["scoreMaximum"] == 28
    assert len(lti.sim.line_items) == 1
    lti.sim.add_user("lms-ann", sourcedid="ann")
    lti.launch("lms-ann")
    from devlab.server.reports import report_xml

    assert lti.submit("ann", report_xml()).status_code == 201
    assert [o.sent for o in lti.send_grades()] == [28]
    assert len(lti.sim.line_items) == 1  # found by its tag, not created again
    assert lti.sim.scores[0].line_item == lti.sim.line_items[0]["id"]


def test_a_student_cannot_deep_link(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    response = lti.launch("lms-user-1", kind="deeplink")
    assert response.status_code == 403 and "Only an instructor" in response.text
