"""The API's refusals on every server the docs name (issue 20, item 1).

``grade-server run`` (waitress), gunicorn alone, and the production recipe (nginx from
``deploy/nginx`` in front of gunicorn with ``deploy/gunicorn.conf.py``) each answer a
refused request with its exact status and the API's JSON reason, never a server's 500:
waitress once turned every refusal that closed its connection into a 500 (a
``Connection`` header is hop-by-hop, which PEP 3333 forbids a WSGI app to send). Where
the recipe's nginx refuses first (a body over ``client_max_body_size``), its own 413 is
the answer, as ``deploy/nginx/grade-server.conf`` says.

One server per kind for the whole module; each has its own database, a low rate limit
(``RATE``) and a low login limit (``LOGIN``), so that 429s come after a few requests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devlab.server.enrolment import Classroom, enrol, migrated_sqlite
from devlab.server.reports import report_xml
from devlab.server.services import Gunicorn
from grader.report.submit import submit_report
from webhook.config import DEFAULT_MAX_REPORT_BYTES

from .test_http import server_env
from .test_slow_clients import Target, grade_server_run, recipe
from .windows import within_one_window

#: Reports (good or bad) per student per window: the fourth is a 429.
RATE = "3/hour"
#: Wrong passwords per username and per address: the fourth try is a 429.
LOGIN = "3/300s"
LIMITS = {
    "GRADER_RATE_LIMIT": RATE,
    "GRADER_LOGIN_LIMIT": LOGIN,
    "GRADER_MAX_REPORT_BYTES": str(DEFAULT_MAX_REPORT_BYTES),
}
OVER = DEFAULT_MAX_REPORT_BYTES + 1
XML = {"Content-Type": "application/xml"}


@contextlib.contextmanager
def gunicorn(root: Path, classroom: Classroom, **extra: str) -> Iterator[Target]:
    with Gunicorn(server_env(classroom.url, **extra), workers=2, log=root / "gunicorn.log") as g:
        yield Target("gunicorn", g.url, g.port, tls=False)


SERVERS: dict[str, Callable[..., contextlib.AbstractContextManager[Target]]] = {
    "grade-server run": grade_server_run,
    "gunicorn": gunicorn,
    "recipe": recipe,
}


@dataclass(frozen=True)
class Served:
    name: str
    target: Target
    classroom: Classroom

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(
            method, self.target.url + path, timeout=10, verify=self.target.verify, **kwargs
        )  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("refusals")
    classroom = enrol(
        migrated_sqlite(root / "grader.sqlite"), students=("ann", "bob", "cat", "dan")
    )
    with SERVERS[request.param](root, classroom, **LIMITS) as target:
        yield Served(request.param, target, classroom)


def assert_refused(response: requests.Response, status: int, code: str) -> None:
    """Exactly ``status``, with the API's JSON reason (not a server's page)."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text
    body = response.json()
    assert body["error"] == code and body["reason"], body


def test_401_without_a_token(served: Served) -> None:
    response = served.request("POST", "/api/v1/submissions", data=report_xml(), headers=XML)
    assert_refused(response, 401, "unauthorized")


def test_401_for_a_wrong_student_token(served: Served) -> None:
    headers = {**XML, "Authorization": "Bearer not-a-token"}
    response = served.request("POST", "/api/v1/submissions", data=report_xml(), headers=headers)
    assert_refused(response, 401, "unauthorized")
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_403_for_a_students_token_naming_a_student(served: Served) -> None:
    classroom = served.classroom
    headers = {**XML, **classroom.bearer("ann"), "X-Grader-Student": f"{classroom.course}/bob"}
    response = served.request("POST", "/api/v1/submissions", data=report_xml(), headers=headers)
    assert_refused(response, 403, "forbidden")


def test_404_for_an_unknown_submission(served: Served) -> None:
    response = served.request(
        "GET", "/api/v1/submissions/987654", headers=served.classroom.bearer("ann")
    )
    assert_refused(response, 404, "not_found")


def test_404_for_an_id_beyond_the_column(served: Served) -> None:
    huge = "9" * 20
    response = served.request(
        "GET", f"/api/v1/submissions/{huge}", headers=served.classroom.bearer("ann")
    )
    assert_refused(response, 404, "not_found")


def test_413_for_a_declared_length_over_the_limit(served: Served) -> None:
    headers = {**XML, **served.classroom.bearer("ann")}
    response = served.request("POST", "/api/v1/submissions", data=b"<" * OVER, headers=headers)
    assert_too_large(served, response)


def test_413_for_a_chunked_body_over_the_limit(served: Served) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(OVER // 4096):
            yield b"<" * 4096
        yield b"<" * (OVER % 4096)

    headers = {**XML, **served.classroom.bearer("ann")}
    response = served.request("POST", "/api/v1/submissions", data=chunks(), headers=headers)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert_too_large(served, response)


def assert_too_large(served: Served, response: requests.Response) -> None:
    if served.name == "recipe":  # nginx's client_max_body_size refuses it before gunicorn
        assert response.status_code == 413 and "nginx" in response.text, response.text[:300]
    else:
        assert_refused(response, 413, "too_large")


def test_415_for_another_content_type(served: Served) -> None:
    headers = {"Content-Type": "text/plain", **served.classroom.bearer("ann")}
    response = served.request("POST", "/api/v1/submissions", data=report_xml(), headers=headers)
    assert_refused(response, 415, "unsupported_media_type")


def test_429_once_a_student_is_over_the_rate_limit(served: Served) -> None:
    headers = {**XML, **served.classroom.bearer("cat")}
    within_one_window(3600)
    statuses = [
        served.request("POST", "/api/v1/submissions", data=b"<not xml", headers=headers)
        for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [400, 400, 400], [r.text for r in statuses]
    response = served.request("POST", "/api/v1/submissions", data=b"<not xml", headers=headers)
    assert_refused(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_401_for_a_wrong_password_then_429(served: Served) -> None:
    """HTTP basic with a wrong password: 401 with its challenge, then the login throttle's 429."""
    wrong = (served.classroom.instructor[0], "wrong password")
    within_one_window(300)
    for _ in range(3):
        response = served.request("GET", "/api/v1/submissions/1", auth=wrong)
        assert_refused(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    response = served.request("GET", "/api/v1/submissions/1", auth=wrong)
    assert_refused(response, 429, "too_many_attempts")
    assert int(response.headers["Retry-After"]) > 0


def test_a_valid_report_is_still_stored(served: Served) -> None:
    headers = {**XML, **served.classroom.bearer("bob")}
    response = served.request("POST", "/api/v1/submissions", data=report_xml(), headers=headers)
    assert response.status_code == 201, response.text


def test_grade_submit_with_a_wrong_token_says_so_and_keeps_the_report(
    served: Served, tmp_path: Path
) -> None:
    """``grade --submit``'s sending half: a refused token is named, the report waits for
    the next submit (with the token corrected), and is neither rejected nor queued as if
    the server were down."""
    outbox = tmp_path / "outbox"
    with requests.Session() as session:
        session.trust_env = False  # else REQUESTS_CA_BUNDLE outranks the suite's certificate
        session.verify = served.target.verify
        outcome = submit_report(report_xml(), "wrong-token-1", url=served.target.url,
                                token="not-a-token", outbox=outbox, session=session)  # fmt: skip
        assert outcome.state == "rejected", outcome
        assert "refused the token (401" in outcome.message, outcome.message
        assert "check --token or GRADER_TOKEN" in outcome.message, outcome.message
        assert outcome.waiting == 1 and not (outbox / "rejected").exists()
        # ... and with the right token, the next submit sends it.
        token = served.classroom.tokens["dan"]
        later = submit_report(report_xml(), "right-token-1", url=served.target.url,
                              token=token, outbox=outbox, session=session)  # fmt: skip
    assert later.state == "submitted" and later.waiting == 0, later
    assert len(later.delivered) == 2
