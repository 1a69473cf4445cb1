"""Issue 19 (LTI): deep linking offers every installed lab; each link is an assignment
(reused or made) with its own column; a launch from a link lands on its assignment.

The course has the Docker lab's assignment (``docker_beginners``); the tiny lab
(``tests/labs/tiny``) is installed as a course's own lab package would be.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests
from sqlalchemy import select

from devlab.server.lms import ROLE_INSTRUCTOR
from devlab.server.reports import report_xml
from tests.server.test_assignment_cli import tiny_installed  # noqa: F401 (fixture)
from webhook.database import get_db
from webhook.labs import lab_rubric
from webhook.lti.deeplink import CUSTOM
from webhook.storage.models import Assignment

from .conftest import Lti, lab_report

DOCKER_MAX = 28


def deep_link(lti: Lti, lab: str, assignment: str = "") -> requests.Response:
    """The instructor adds ``lab`` (to ``assignment``, or as a new one) from the LMS."""
    page = lti.launch("lms-prof", kind="deeplink")
    assert page.status_code == 200, page.text
    action, token = page_form(lti, page.text)
    answer = lti.browser.post(
        action, data={"lab": lab, "assignment": assignment, "csrf_token": token}, timeout=30
    )
    if answer.status_code != 200:
        return answer
    form = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
    jwt = re.search(r'name="JWT" value="([^"]+)"', answer.text)
    assert form is not None and jwt is not None, answer.text
    done = lti.browser.post(unescape(form[1]), data={"JWT": jwt[1]}, timeout=30)
    assert done.status_code == 200, done.text
    return done


def page_form(lti: Lti, html: str) -> tuple[str, str]:
    """The deep linking page's form: its action (URL) and its CSRF token."""
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert action is not None and token is not None, html
    return f"{lti.base}{unescape(action[1])}", unescape(token[1])


def submit(lti: Lti, xml: bytes, assignment: str = "") -> requests.Response:
    return requests.post(
        f"{lti.base}/api/v1/submissions",
        data=xml,
        headers={
            "Content-Type": "application/xml",
            **lti.classroom.bearer("ann"),
            **({"X-Grader-Assignment": assignment} if assignment else {}),
        },
        timeout=30,
    )


@pytest.fixture
def linked(lti: Lti, tiny_installed: None) -> Lti:  # noqa: F811
    """The Docker lab linked to its assignment, the tiny lab added (a new assignment), and
    the Docker lab added again as a new assignment."""
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    page = lti.launch("lms-prof", kind="deeplink")
    assert "Docker for beginners" in page.text and f"worth {DOCKER_MAX} points" in page.text
    tiny_max = lab_rubric("tiny").max_score
    assert "A tiny lab" in page.text and f"worth {tiny_max} points" in page.text
    deep_link(lti, "docker_beginners", "docker_beginners")
    deep_link(lti, "tiny")
    deep_link(lti, "docker_beginners")
    return lti


def test_each_link_is_an_assignment_with_its_own_column(linked: Lti) -> None:
    lti = linked
    with lti.app.app_context():
        session = get_db().session()
        made = session.execute(
            select(Assignment.slug, Assignment.lab, Assignment.title).order_by(Assignment.id)
        ).all()
        session.close()
    assert [tuple(row) for row in made] == [
        ("docker_beginners", "docker_beginners", "Docker 101 lab"),  # reused, as it was
        ("tiny", "tiny", "A tiny lab"),
        ("docker_beginners-2", "docker_beginners", "Docker for beginners (2)"),
    ]
    links = lti.sim.links()
    assert [link["custom"]["assignment"] for link in links] == [
        "docker_beginners",
        "tiny",
        "docker_beginners-2",
    ]
    columns = [(item["tag"], item["scoreMaximum"]) for item in lti.sim.line_items]
    assert columns == [
        ("docker-lab-grader:docker_beginners", DOCKER_MAX),
        ("docker-lab-grader:tiny", lab_rubric("tiny").max_score),
        ("docker-lab-grader:docker_beginners-2", DOCKER_MAX),
    ]


def test_a_students_launch_lands_on_the_links_assignment(linked: Lti) -> None:
    lti = linked
    lti.sim.add_user("lms-ann", sourcedid="ann")
    command = f"grade --submit {lti.base}"
    first = lti.launch_link("lms-ann", 0)
    assert ">docker_beginners<" in first and f"{command} --assignment docker_beginners<" in first
    tiny = lti.launch_link("lms-ann", 1)
    assert ">tiny<" in tiny and f"{command}</code>" in tiny  # one assignment of the lab
    second = lti.launch_link("lms-ann", 2)
    assert f"{command} --assignment docker_beginners-2<" in second
    assert "Docker for beginners (2)" in second


def test_each_grade_reaches_the_column_its_link_made(linked: Lti) -> None:
    lti = linked
    lti.sim.add_user("lms-ann", sourcedid="ann")
    lti.launch_link("lms-ann", 1)
    tiny = lab_rubric("tiny")
    assert submit(lti, lab_report(tiny)).status_code == 201
    assert submit(lti, report_xml(), "docker_beginners-2").status_code == 201
    sent = sorted((o.assignment, o.sent) for o in lti.send_grades())
    assert sent == [
        ("docker_beginners", None),
        ("docker_beginners-2", DOCKER_MAX),
        ("tiny", tiny.max_score),
    ]
    assert len(lti.sim.line_items) == 3  # found by their tags: none created again
    items = {item["tag"]: item["id"] for item in lti.sim.line_items}
    scores = {(s.line_item, s.body["scoreGiven"], s.body["scoreMaximum"]) for s in lti.sim.scores}
    assert scores == {
        (items["docker-lab-grader:tiny"], tiny.max_score, tiny.max_score),
        (items["docker-lab-grader:docker_beginners-2"], DOCKER_MAX, DOCKER_MAX),
    }


def test_a_lab_that_is_not_installed_or_an_assignment_of_another_lab_is_refused(
    linked: Lti,
) -> None:
    lti = linked
    answer = deep_link(lti, "nope")
    assert answer.status_code == 400 and answer.text == "no lab 'nope' is installed\n"
    answer = deep_link(lti, "tiny", "docker_beginners")
    assert answer.status_code == 400
    assert answer.text == "course docker-101 has no assignment 'docker_beginners' of lab tiny\n"
    with lti.app.app_context():
        session = get_db().session()
        assert len(session.scalars(select(Assignment)).all()) == 3  # nothing made
        session.close()


def test_a_forged_deep_link_post_is_refused(lti: Lti) -> None:
    """A POST with the launch's id but not its page's token (none, another launch's, an
    altered one) makes no assignment and no link: another site cannot make an instructor's
    browser add a lab, knowing the launch id."""
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    _, earlier = page_form(lti, lti.launch("lms-prof", kind="deeplink").text)
    action, token = page_form(lti, lti.launch("lms-prof", kind="deeplink").text)
    assert earlier != token
    new = {"lab": "docker_beginners", "assignment": ""}  # would make docker_beginners-2
    for forged in ({}, {"csrf_token": ""}, {"csrf_token": earlier}, {"csrf_token": token[:-1]}):
        answer = lti.browser.post(action, data={**new, **forged}, timeout=30)
        assert answer.status_code == 403, (forged, answer.status_code, answer.text[:300])
        assert answer.headers.get("X-LTI-Refused") == "bad_form_token", answer.headers
        assert 'name="JWT"' not in answer.text
    with lti.app.app_context():
        session = get_db().session()
        assert session.scalars(select(Assignment.slug)).all() == ["docker_beginners"]
        session.close()
    # the page's own token: the link is made
    answer = lti.browser.post(action, data={**new, "csrf_token": token}, timeout=30)
    assert answer.status_code == 200 and 'name="JWT"' in answer.text, answer.text[:300]


def test_an_instructors_launch_lands_on_the_links_assignment_page(linked: Lti) -> None:
    """From a link deep linking made: that assignment's page, logged in; from the course's
    navigation (no assignment named): the course page, as before."""
    lti = linked
    for link, slug in ((1, "tiny"), (2, "docker_beginners-2"), (0, "docker_beginners")):
        page = lti.post_form(lti.platform_form("lms-prof", link=link))
        assert page.status_code == 200, page.text[:300]
        assert page.url == f"{lti.base}/gradebook/docker-101/a/{slug}", page.url
    course = lti.launch("lms-prof")
    assert course.status_code == 200 and course.url == f"{lti.base}/gradebook/docker-101/"
    # a link naming an assignment the course no longer has: the course page too
    lti.sim.spoil = lambda claims: claims[CUSTOM].update(assignment="gone")
    stale = lti.post_form(lti.platform_form("lms-prof", link=1))
    assert stale.status_code == 200 and stale.url == f"{lti.base}/gradebook/docker-101/"
