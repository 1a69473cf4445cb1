"""The API's refusals on every server the docs name (issue 20, item 1).

``grade-server run`` (waitress), gunicorn alone, and the production recipe (nginx from
``deploy/nginx`` in front of gunicorn with ``deploy/gunicorn.conf.py``) each answer a
refused request with its exact status and the API's JSON reason, never a server's 500:
waitress once turned every refusal that closed its connection into a 500 (a
``Connection`` header is hop-by-hop, which PEP 3333 forbids a WSGI app to send). Where
the recipe's nginx refuses first (a body over ``client_max_body_size``), its own 413 is
the answer, as ``deploy/nginx/grade-server.conf`` says.

Issue 19's refusals too: a report for a lab (or a slug) the course has no assignment of
(404 ``no_assignment``), the exceptions API's 400/401/404/415/422, and the gradebook's
rescore confirm and exception form (no CSRF token: 400; another course's assignment: 404),
each with nothing changed.

One server per kind for the whole module; each has its own database, a low rate limit
(``RATE``) and a low login limit (``LOGIN``), so that 429s come after a few requests.
The test that spends the login limit comes last: after it, every login from this address
waits for the next window.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from devlab.server.enrolment import INSTRUCTOR, Classroom, enrol, migrated_sqlite
from devlab.server.reports import report_xml
from devlab.server.seeded import csrf_from
from devlab.server.services import Gunicorn
from grader.report.submit import submit_report
from submissions.rubric import shipped_rubric
from webhook.auth import hash_password
from webhook.config import DEFAULT_MAX_REPORT_BYTES
from webhook.ingest.route import ASSIGNMENT_HEADER
from webhook.storage.assignments import add_assignment
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import (
    AssignmentRescore,
    Course,
    CourseInstructor,
    Instructor,
    Student,
    Submission,
)

from .test_assignments import tiny_report
from .test_exception_cli import stored
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
#: The course's one assignment (the shipped rubric's lab).
SLUG = shipped_rubric().lab
PROF = INSTRUCTOR  # administers the server: sees every course
#: Teaches docker-202 only: docker-101 is not theirs.
BEE = ("bee", "bee's own long password")


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
        migrated_sqlite(root / "grader.sqlite"), students=("ann", "bob", "cat", "dan", "eve")
    )
    another_course(classroom.url)
    with SERVERS[request.param](root, classroom, **LIMITS) as target:
        yield Served(request.param, target, classroom)


def another_course(url: str) -> None:
    """docker-202, its assignment, a student, and its instructor bee."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            course = Course(slug="docker-202", name="Docker 202")
            bee = Instructor(username=BEE[0], password_hash=hash_password(BEE[1]))
            session.add_all([course, bee])
            session.flush()
            add_assignment(session, course, shipped_rubric())
            session.add(Student(course_id=course.id, student_id="fay", token_hash="f" * 64))
            session.add(CourseInstructor(course_id=course.id, instructor_id=bee.id))
            session.commit()
    finally:
        engine.dispose()


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


# --- Issue 19: assignments ---------------------------------------------------------------------


def test_404_for_a_lab_the_course_has_no_assignment_of(served: Served) -> None:
    headers = {**XML, **served.classroom.bearer("eve")}
    report = report_xml(tiny_report())
    response = served.request("POST", "/api/v1/submissions", data=report, headers=headers)
    assert_refused(response, 404, "no_assignment")
    assert "docker-101" in response.json()["reason"] and "'tiny'" in response.json()["reason"]


def test_404_for_an_assignment_header_naming_an_unknown_slug(served: Served) -> None:
    headers = {**XML, **served.classroom.bearer("eve"), ASSIGNMENT_HEADER: "retake"}
    response = served.request("POST", "/api/v1/submissions", data=report_xml(), headers=headers)
    assert_refused(response, 404, "no_assignment")
    assert "'retake'" in response.json()["reason"], response.json()


ASSIGNMENTS = "/api/v1/courses/docker-101/assignments/"
EXCEPTIONS = ASSIGNMENTS + SLUG
SEVEN = {"grade": 7, "note": "regraded"}
#: (what, path under ASSIGNMENTS, request's keywords, who logs in, status, code)
API_REFUSALS = [
    ("no login", f"{SLUG}/students/ann/override", {"json": SEVEN}, None, 401, "unauthorized"),
    ("a student's token", f"{SLUG}/students/ann/override", {"json": SEVEN}, "ann", 401,
     "unauthorized"),
    ("another course's instructor", f"{SLUG}/students/ann/override", {"json": SEVEN}, BEE, 404,
     "not_found"),
    ("a student not on the roster", f"{SLUG}/students/zed/override", {"json": SEVEN}, PROF, 404,
     "not_found"),
    ("an unknown kind", f"{SLUG}/students/ann/holiday", {"json": {"note": "x"}}, PROF, 404,
     "not_found"),
    ("an unknown assignment", "retake/students/ann/override", {"json": SEVEN}, PROF, 404,
     "not_found"),
    ("a form, not JSON", f"{SLUG}/students/ann/override", {"data": "grade=7"}, PROF, 415,
     "unsupported_media_type"),
    ("a grade as a string", f"{SLUG}/students/ann/override", {"json": {"grade": "7", "note": "x"}},
     PROF, 400, "bad_request"),
    ("no note", f"{SLUG}/students/ann/override", {"json": {"grade": 7}}, PROF, 400, "bad_request"),
    ("a body that is not JSON", f"{SLUG}/students/ann/override",
     {"data": b"{not json", "headers": {"Content-Type": "application/json"}}, PROF, 400,
     "bad_request"),
    ("an override over the maximum", f"{SLUG}/students/ann/override",
     {"json": {"grade": 10_000, "note": "x"}}, PROF, 422, "refused"),
    ("an empty note", f"{SLUG}/students/ann/excused", {"json": {"note": " "}}, PROF, 422,
     "refused"),
    ("an extension of no close", f"{SLUG}/students/ann/extension",
     {"json": {"days": 2, "note": "x"}}, PROF, 422, "refused"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "kwargs", "who", "status", "code"),
    [case[1:] for case in API_REFUSALS],
    ids=[case[0] for case in API_REFUSALS],
)
def test_the_exceptions_api_refuses(
    served: Served,
    path: str,
    kwargs: dict[str, Any],
    who: str | tuple[str, str] | None,
    status: int,
    code: str,
) -> None:
    """Each refusal of ``PUT .../students/<id>/<kind>``: its status and reason, nothing kept."""
    kwargs = dict(kwargs)  # the case's own dict serves every server
    headers = dict(kwargs.pop("headers", {}))
    if isinstance(who, tuple):
        headers["Authorization"] = basic(*who)
    elif who is not None:
        headers.update(served.classroom.bearer(who))
    before = kept(served.classroom.url)
    response = served.request("PUT", ASSIGNMENTS + path, headers=headers, **kwargs)
    assert_refused(response, status, code)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic"), response.headers
    assert "\n" not in response.json()["reason"]
    assert kept(served.classroom.url) == before


def test_the_exceptions_list_is_refused_without_a_login_or_to_another_course(
    served: Served,
) -> None:
    listed = EXCEPTIONS + "/exceptions"
    assert_refused(served.request("GET", listed), 401, "unauthorized")
    other = served.request("GET", listed, headers={"Authorization": basic(*BEE)})
    assert_refused(other, 404, "not_found")
    mine = served.request("GET", listed, headers={"Authorization": basic(*PROF)})
    assert mine.status_code == 200 and mine.json() == {"exceptions": []}, mine.text


RESCORE = f"/gradebook/docker-101/a/{SLUG}/rescore"
EXCEPTION_FORM = f"/gradebook/docker-101/a/{SLUG}/exceptions"
FORMS = {
    "rescore confirm": (RESCORE, {"version": "1"}),
    "exception form": (EXCEPTION_FORM, {"student": "ann", "action": "excuse", "note": "x"}),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_a_gradebook_form_without_its_csrf_token_is_refused(served: Served, form: str) -> None:
    path, data = FORMS[form]
    with logged_in(served, PROF) as session:
        before = kept(served.classroom.url)
        response = session.post(served.target.url + path, data=data, allow_redirects=False)
        assert_page(response, 400, "CSRF token")
        other = session.post(
            served.target.url + path, data={**data, "csrf_token": "forged"}, allow_redirects=False
        )
        assert_page(other, 400, "CSRF token")
        assert kept(served.classroom.url) == before


@pytest.mark.parametrize("form", list(FORMS))
def test_a_gradebook_form_for_another_courses_assignment_is_a_404(
    served: Served, form: str
) -> None:
    """bee teaches docker-202 only: their own valid token does not reach docker-101."""
    path, data = FORMS[form]
    with logged_in(served, BEE) as session:
        before = kept(served.classroom.url)
        response = session.post(
            served.target.url + path, data={**data, "csrf_token": session.token},
            allow_redirects=False,
        )  # fmt: skip
        assert_page(response, 404, "")
        assert kept(served.classroom.url) == before


class Browser(requests.Session):
    """A logged-in instructor's session, with the CSRF token of its pages."""

    token = ""


@contextlib.contextmanager
def logged_in(served: Served, who: tuple[str, str]) -> Iterator[Browser]:
    with Browser() as session:
        session.trust_env = False
        session.verify = served.target.verify
        # a same-origin Referer, as a browser sends: over HTTPS, Flask-WTF asks for one
        session.headers["Referer"] = served.target.url + "/gradebook/"
        login = served.target.url + "/login"
        token = csrf_from(session.get(login, timeout=10).text)
        response = session.post(
            login, data={"username": who[0], "password": who[1], "csrf_token": token},
            allow_redirects=False, timeout=10,
        )  # fmt: skip
        assert response.status_code == 302, (response.status_code, response.text[:300])
        page = session.get(served.target.url + "/gradebook/", timeout=10)
        session.token = csrf_from(page.text)
        yield session


def assert_page(response: requests.Response, status: int, says: str) -> None:
    """Exactly ``status``, as the gradebook's own page (not a server's)."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers.get("Content-Type", "").startswith("text/html"), response.headers
    assert "<main" in response.text and says in response.text, response.text[:500]


def kept(url: str) -> tuple[object, ...]:
    """What a refusal must leave alone: assignments, exceptions, re-scorings, reports."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rescored = connection.execute(select(AssignmentRescore.id)).all()
            scores = connection.execute(
                select(Submission.id, Submission.score, Submission.rubric_version)
            ).all()
    finally:
        engine.dispose()
    return (stored(url), [tuple(row) for row in rescored], [tuple(row) for row in scores])


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


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


# --- Last: it spends this address's login limit ------------------------------------------------


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
