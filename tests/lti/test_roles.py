"""Only context (membership) roles grant course rights: a launch and an NRPS member alike.

A learner whose roles also carry an institution or system role, an unknown URI ending in
``#Instructor``, or a learner's sub-role named ``Instructor`` lands as a student; a role
that is no context role at all is refused a page; a real context Instructor and a
TeachingAssistant (an Instructor's sub-role) land on the gradebook.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from devlab.server.lms import ROLE_INSTRUCTOR, ROLE_LEARNER, User
from webhook.database import get_db
from webhook.lti.roles import CourseRole, course_role
from webhook.storage.models import CourseInstructor, Student

from .conftest import Lti

LIS = "http://purl.imsglobal.org/vocab/lis/v2"
TEACHING_ASSISTANT = f"{LIS}/membership/Instructor#TeachingAssistant"
ATTACKS = {
    "institution instructor": [ROLE_LEARNER, f"{LIS}/institution/person#Instructor"],
    "system administrator": [ROLE_LEARNER, f"{LIS}/system/person#Administrator"],
    "made-up uri": [ROLE_LEARNER, "urn:x#Instructor"],
    "learner sub-role": [f"{LIS}/membership/Learner#Instructor"],
}


def launch_as(lti: Lti, roles: list[str]) -> requests.Response:
    lti.sim.add_user("lms-user-1", email="cy@lms.example.edu").roles = roles
    return lti.launch("lms-user-1")


def teaches(lti: Lti) -> int:
    with lti.app.app_context():
        session = get_db().session()
        n = int(session.scalar(select(func.count()).select_from(CourseInstructor)) or 0)
        session.close()
    return n


@pytest.mark.parametrize("roles", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_learner_with_a_non_context_staff_role_lands_as_a_student(
    lti: Lti, roles: list[str]
) -> None:
    page = launch_as(lti, roles)
    assert page.status_code == 200, page.text
    assert "/gradebook/" not in page.url and "GRADER_TOKEN=gls_" in page.text
    assert teaches(lti) == 0
    gradebook = lti.browser.get(f"{lti.base}/gradebook/docker-101/", timeout=10)
    assert "/login" in gradebook.url


@pytest.mark.parametrize(
    "roles",
    [[f"{LIS}/institution/person#Administrator"], [f"{LIS}/system/person#SysAdmin"], []],
    ids=["institution admin only", "system admin only", "no roles"],
)
def test_a_launch_with_no_context_role_is_refused(lti: Lti, roles: list[str]) -> None:
    page = launch_as(lti, roles)
    assert page.status_code == 403 and page.headers["X-LTI-Refused"] == "no_course_role"
    assert teaches(lti) == 0
    with lti.app.app_context():
        session = get_db().session()
        assert session.scalar(select(func.count()).select_from(Student)) == 2  # ann, bob only
        session.close()


@pytest.mark.parametrize("role", [ROLE_INSTRUCTOR, TEACHING_ASSISTANT], ids=["instructor", "ta"])
def test_a_context_instructor_or_ta_lands_on_the_gradebook(lti: Lti, role: str) -> None:
    page = launch_as(lti, [role])
    assert page.status_code == 200 and page.url.endswith("/gradebook/docker-101/")
    assert teaches(lti) == 1


def test_roster_sync_enrols_by_context_role_only(lti: Lti) -> None:
    lti.sim.members = [
        User("lms-1", "One", "one@lms.example.edu", ATTACKS["institution instructor"]),
        User("lms-2", "Two", "two@lms.example.edu", [f"{LIS}/membership#Mentor"]),
        User("lms-3", "Three", "three@lms.example.edu", [TEACHING_ASSISTANT]),
        User("lms-4", "Four", "four@lms.example.edu", [f"{LIS}/membership/Learner#Instructor"]),
    ]
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    assert lti.launch("lms-prof").status_code == 200
    result = lti.cli("lti", "roster-sync", "docker-101")
    assert result.exit_code == 0, result.output
    with lti.app.app_context():
        session = get_db().session()
        ids = set(session.scalars(select(Student.student_id)))
        session.close()
    assert ids == {"ann", "bob", "one", "four"}  # learners in; the mentor and the TA not


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        ((ROLE_LEARNER,), CourseRole.LEARNER),
        ((ROLE_INSTRUCTOR,), CourseRole.INSTRUCTOR),
        ((f"{LIS}/membership#Administrator",), CourseRole.INSTRUCTOR),
        ((TEACHING_ASSISTANT,), CourseRole.INSTRUCTOR),
        (("Instructor",), CourseRole.INSTRUCTOR),
        (("TeachingAssistant",), CourseRole.INSTRUCTOR),
        (("Learner",), CourseRole.LEARNER),
        ((ROLE_LEARNER, f"{LIS}/institution/person#Instructor"), CourseRole.LEARNER),
        ((f"{LIS}/institution/person#Administrator",), CourseRole.NONE),
        ((f"{LIS}/membership#Mentor",), CourseRole.NONE),
        ((f"{LIS}/membership#ContentDeveloper",), CourseRole.NONE),
        (("urn:lti:instrole:ims/lis/Instructor",), CourseRole.NONE),
        (("http://example.com/membership#Instructor",), CourseRole.NONE),
        ((), CourseRole.NONE),
    ],
)
def test_the_course_role_of_a_set_of_roles(roles: tuple[str, ...], role: CourseRole) -> None:
    assert course_role(roles) is role
