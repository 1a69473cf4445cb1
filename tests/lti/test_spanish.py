"""A student whose browser (or ``grade --submit``) asks for Spanish reads Spanish (issue 24).

The launch page and its refusals are chosen from the browser's ``Accept-Language``, the
student API's ``reason`` from the request's; what programs read (the submit command, the
error codes, ``X-LTI-Refused``) stays English, byte for byte.
"""

from __future__ import annotations

import re
import time

import requests

from devlab.server.reports import report_xml

from .conftest import Lti

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def command(page: str) -> str:
    found = re.search(r'<pre id="submit-command"[^>]*>(.*?)</pre>', page, re.DOTALL)
    assert found is not None, page
    return found.group(1)


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]*)">', page)
    assert found is not None, page
    return found.group(1)


def test_a_launch_in_spanish_shows_spanish_and_the_english_submit_command(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    english = lti.launch("lms-user-1")
    assert english.status_code == 200, english.text
    assert html_lang(english.text) == "en" and "Send your work" in english.text
    lti.browser.headers.update(SPANISH)
    spanish = lti.launch("lms-user-1")
    assert spanish.status_code == 200, spanish.text
    assert html_lang(spanish.text) == "es"
    assert "Envía tu trabajo" in spanish.text and "ninguna todavía" in spanish.text
    assert "Send your work" not in spanish.text
    assert command(spanish.text) == command(english.text)
    assert command(spanish.text).startswith("GRADER_TOKEN=gls_")


def test_a_language_without_a_catalog_is_english(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    lti.browser.headers["Accept-Language"] = "de-DE,fr;q=0.8"
    page = lti.launch("lms-user-1")
    assert page.status_code == 200
    assert html_lang(page.text) == "en" and "Send your work" in page.text


def test_a_refused_launch_in_spanish_says_why_in_spanish_with_the_english_kind(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    now = int(time.time())
    lti.sim.spoil = lambda claims: claims.update(iat=now - 900, exp=now - 600)
    lti.browser.headers.update(SPANISH)
    response = lti.launch("lms-user-1")
    assert response.status_code == 403
    assert response.headers["X-LTI-Refused"] == "expired"
    assert html_lang(response.text) == "es"
    assert "El acceso ha caducado: vuelve a abrir el laboratorio desde el LMS." in response.text
    assert "has expired" not in response.text.split('id="detail"')[0]


def post(lti: Lti, token: str, xml: bytes, **headers: str) -> requests.Response:
    return requests.post(
        f"{lti.base}/api/v1/submissions",
        data=xml,
        headers={"Content-Type": "application/xml", "Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )


def test_an_api_refusal_in_spanish_has_the_spanish_reason_and_the_english_code(lti: Lti) -> None:
    english = post(lti, "gls_not-a-token", report_xml())
    spanish = post(lti, "gls_not-a-token", report_xml(), **SPANISH)
    assert english.status_code == spanish.status_code == 401
    assert english.json() == {"error": "unauthorized", "reason": "the token is not valid"}
    assert spanish.json() == {"error": "unauthorized", "reason": "el token no es válido"}


def test_a_reason_with_values_is_translated_around_the_same_values(lti: Lti) -> None:
    token = lti.classroom.tokens["ann"]
    xml = report_xml(lab="storage_networks")
    english = post(lti, token, xml)
    spanish = post(lti, token, xml, **SPANISH)
    assert english.status_code == spanish.status_code == 404, english.text
    assert spanish.json()["error"] == english.json()["error"] == "no_assignment"
    assert english.json()["reason"].startswith("course docker-101 has no assignment of lab ")
    assert spanish.json()["reason"] == (
        "el curso docker-101 no tiene ninguna tarea del laboratorio 'storage_networks': pide a"
        " tu profesor que añada una (grade-server assignment create docker-101 SLUG --lab"
        " storage_networks)"
    )
