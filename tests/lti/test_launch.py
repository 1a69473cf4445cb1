"""Launches through the real pylti1p3 code paths, against the simulated platform."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from sqlalchemy import select

from devlab.server.lms import ROLE_INSTRUCTOR
from webhook.database import get_db
from webhook.lti.models import LtiMember
from webhook.storage.models import Student
from webhook.storage.tokens import hash_token

from .conftest import Lti

DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


def refused(response: requests.Response) -> str:
    assert response.status_code == 403, response.text
    return response.headers["X-LTI-Refused"]


def test_a_students_first_launch_binds_them_and_shows_their_submit_command(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1", name="Cy Newman", email="cy@lms.example.edu")
    page = lti.launch("lms-user-1")
    assert page.status_code == 200, page.text
    assert "Docker 101" in page.text and "none yet" in page.text
    token = page.text.split("GRADER_TOKEN=", 1)[1].split()[0]
    assert f"grade --submit {lti.base}" in page.text
    with lti.app.app_context():
        session = get_db().session()
        student = session.scalar(select(Student).where(Student.student_id == "cy"))
        assert student is not None and student.token_hash == hash_token(token)
        member = session.scalar(select(LtiMember).where(LtiMember.sub == "lms-user-1"))
        assert member is not None and member.student_pk == student.id
        session.close()
    again = lti.launch("lms-user-1")  # the same token on the next launch, no second student
    assert f"GRADER_TOKEN={token} " in again.text
    assert lti.submit_with(token).status_code == 201


def test_a_roster_student_is_matched_by_their_lms_roster_id(lti: Lti) -> None:
    lti.sim.add_user("lms-ann", sourcedid="ann")
    page = lti.launch("lms-ann")
    assert page.status_code == 200
    assert ">ann<" in page.text and "GRADER_TOKEN=gls_" not in page.text  # her own token stands


def test_the_jwks_serves_public_keys_only(lti: Lti) -> None:
    document = requests.get(f"{lti.base}/lti/jwks.json", timeout=10).json()
    assert len(document["keys"]) == 1
    assert set(document["keys"][0]) == {"kty", "n", "e", "kid", "alg", "use"}


def spoiled(lti: Lti, spoil: Any) -> requests.Response:
    lti.sim.add_user("lms-user-1")
    lti.sim.spoil = spoil
    return lti.launch("lms-user-1")


def test_a_launch_signed_by_another_key_is_refused(lti: Lti) -> None:
    response = spoiled(lti, lambda claims: claims.update(_rogue_key=True))
    assert refused(response) == "bad_signature"
    assert "signature" in response.text


def test_a_launch_for_another_audience_is_refused(lti: Lti) -> None:
    response = spoiled(lti, lambda claims: claims.update(aud="another-tool", azp="another-tool"))
    assert refused(response) == "unknown_platform"
    assert "client id" in response.text


def test_an_expired_launch_is_refused(lti: Lti) -> None:
    now = int(time.time())
    response = spoiled(lti, lambda claims: claims.update(iat=now - 900, exp=now - 600))
    assert refused(response) == "expired"
    assert "expired" in response.text


def test_a_launch_of_an_unknown_deployment_is_refused(lti: Lti) -> None:
    response = spoiled(lti, lambda claims: claims.update({DEPLOYMENT: "9:not-registered"}))
    assert refused(response) == "unknown_deployment"
    assert "grade-server lti deployment add" in response.text


def test_a_replayed_launch_is_refused(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    form = lti.platform_form("lms-user-1")
    assert lti.post_form(form).status_code == 200
    assert refused(lti.post_form(form)) == "replayed"


def test_a_correct_launch_is_accepted_after_a_spoiled_one(lti: Lti) -> None:
    """The refusals above are the spoiling's doing: the same launch unspoiled passes."""
    assert refused(spoiled(lti, lambda claims: claims.update(_rogue_key=True))) == "bad_signature"
    lti.sim.spoil = None
    assert lti.launch("lms-user-1").status_code == 200


def test_an_instructor_lands_on_the_course_gradebook_logged_in(lti: Lti) -> None:
    lti.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR, email="prof@lms.example.edu")
    page = lti.launch("lms-prof")
    assert page.status_code == 200
    assert page.url.endswith("/gradebook/docker-101/")
    assert "Docker 101" in page.text and "ann" in page.text
    assert lti.browser.get(f"{lti.base}/gradebook/docker-101/", timeout=10).status_code == 200


def test_a_student_cannot_reach_the_gradebook_through_a_launch(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    assert lti.launch("lms-user-1").status_code == 200
    page = lti.browser.get(f"{lti.base}/gradebook/docker-101/", timeout=10)
    assert "/login" in page.url


def test_canvas_config_names_the_tools_urls(lti: Lti) -> None:
    config = json.loads(requests.get(f"{lti.base}/lti/config.json", timeout=10).text)
    assert config["oidc_initiation_url"] == f"{lti.base}/lti/login"
    assert config["target_link_uri"] == f"{lti.base}/lti/launch"
    assert config["public_jwk_url"] == f"{lti.base}/lti/jwks.json"


def test_a_login_from_an_unknown_platform_is_refused_with_its_reason(lti: Lti) -> None:
    response = requests.get(
        f"{lti.base}/lti/login",
        params={"iss": "https://stranger.example", "login_hint": "x", "client_id": "y"},
        timeout=10,
        allow_redirects=False,
    )
    assert refused(response) == "unknown_platform"
    assert "grade-server lti platform add" in response.text
