"""Logins attacked over real HTTP (gunicorn, 4 workers, SQLite): where ``next`` may lead,
how many guesses a username or an address gets, whether guessing starves a student's
report, whether logout really ends a session, and the cookie and cache flags.

Issue 11, findings 3, 4 and 5: each test here failed before the fix.
"""

from __future__ import annotations

import functools
import re
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from devlab.server.enrolment import INSTRUCTOR, Classroom, app_config, enrol, migrated_sqlite
from devlab.server.reports import report_xml
from devlab.server.services import Gunicorn
from webhook import create_app
from webhook.storage.db import make_engine
from webhook.storage.models import RateLimitWindow

from .windows import within_one_window

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
XML = {"Content-Type": "application/xml"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gunicorn, Classroom]]:
    root = tmp_path_factory.mktemp("logins")
    url = migrated_sqlite(root / "grader.sqlite")
    classroom = enrol(url)
    env = {
        "GRADER_DATABASE_URL": url,
        "GRADER_INSTANCE_PATH": str(root / "instance"),
        "GRADER_SECRET_KEY": "logins test key",
        "GRADER_RATE_LIMIT": "0/minute",
        "GRADER_LOGIN_LIMIT": "5/300s",
    }
    with Gunicorn(env, workers=4, log=root / "gunicorn.log") as gunicorn:
        yield gunicorn, classroom


def forget_failures(url: str, prefix: str = "login-") -> None:
    """Clear the login counters (every request of these tests comes from 127.0.0.1)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(delete(RateLimitWindow).where(RateLimitWindow.key.startswith(prefix)))
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    within_one_window(300)  # every limit here counts in windows of 300 s at most
    yield
    if "server" in request.fixturenames:
        forget_failures(request.getfixturevalue("server")[1].url)


def form_token(http: requests.Session, base: str) -> str:
    page = http.get(f"{base}/login", timeout=10)
    found = CSRF.search(page.text)
    assert found is not None
    return found[1]


def log_in(
    http: requests.Session, base: str, username: str, password: str, **extra: str
) -> requests.Response:
    data = {"username": username, "password": password, "csrf_token": form_token(http, base)}
    return http.post(f"{base}/login", data={**data, **extra}, allow_redirects=False, timeout=10)


# --- next -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "////evil.example/",
        "///evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "/gradebook/\r\nSet-Cookie: stolen=1",
        "/gradebook/\u202e/x",
    ],
)
def test_login_sends_the_browser_only_to_a_path_of_this_site(
    server: tuple[Gunicorn, Classroom], target: str
) -> None:
    gunicorn, _ = server
    user, password = INSTRUCTOR
    with requests.Session() as http:
        response = log_in(http, gunicorn.url, user, password, next=target)
        assert response.status_code == 302
        assert response.headers["Location"] == "/gradebook/"
        assert "stolen" not in response.headers.get("Set-Cookie", "")
        # logged in already: GET /login?next=... redirects at once, the same way
        again = http.get(
            f"{gunicorn.url}/login", params={"next": target}, allow_redirects=False, timeout=10
        )
        assert again.status_code == 302
        assert again.headers["Location"] == "/gradebook/"


def test_a_path_of_this_site_is_followed(server: tuple[Gunicorn, Classroom]) -> None:
    gunicorn, classroom = server
    user, password = INSTRUCTOR
    target = f"/gradebook/{classroom.course}/flags?show=all"
    with requests.Session() as http:
        response = log_in(http, gunicorn.url, user, password, next=target)
        assert response.status_code == 302
        assert response.headers["Location"] == target


# --- guessing -----------------------------------------------------------------------------


def test_guesses_at_one_username_are_throttled_even_from_many_addresses(
    server: tuple[Gunicorn, Classroom],
) -> None:
    """The form: after 5 failures the username answers 429 (the address's count is
    cleared after each guess, as if each came from another address)."""
    gunicorn, classroom = server
    with requests.Session() as http:
        for attempt in range(5):
            wrong = log_in(http, gunicorn.url, "victim-form", f"guess {attempt}")
            assert wrong.status_code == 401
            forget_failures(classroom.url, "login-addr:")
        throttled = log_in(http, gunicorn.url, "victim-form", "guess 6")
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["Retry-After"]) <= 300
        assert "too many failed logins" in throttled.text


def test_the_right_password_waits_too_once_a_username_is_throttled(
    server: tuple[Gunicorn, Classroom],
) -> None:
    """Per username: the throttle is checked before the password (so a guess costs no hash)."""
    gunicorn, classroom = server
    # a second instructor, so that the shared one stays usable for the other tests
    from webhook.auth import hash_password
    from webhook.storage.db import make_session_factory
    from webhook.storage.models import Instructor

    engine = make_engine(classroom.url)
    with make_session_factory(engine)() as session:
        session.add(Instructor(username="target", password_hash=hash_password("the real one")))
        session.commit()
    engine.dispose()
    with requests.Session() as http:
        for attempt in range(5):
            assert log_in(http, gunicorn.url, "target", f"nope {attempt}").status_code == 401
            forget_failures(classroom.url, "login-addr:")
        assert log_in(http, gunicorn.url, "target", "the real one").status_code == 429


def test_one_address_guessing_many_usernames_is_throttled_on_http_basic(
    server: tuple[Gunicorn, Classroom],
) -> None:
    """HTTP basic counts as a login: per client address, whatever the usernames."""
    gunicorn, _ = server
    url = f"{gunicorn.url}/api/v1/submissions/1"
    answers = [requests.get(url, auth=(f"basic-user-{i}", "wrong"), timeout=10) for i in range(30)]
    codes = [a.status_code for a in answers]
    assert 401 in codes[:1]
    assert codes[-1] == 429, codes
    assert "Retry-After" in answers[-1].headers
    assert answers[-1].json()["error"] == "too_many_attempts"


def median_report_latency(tmp_path: Path, *, guessers: int, slots: str) -> float:
    """The median time a student's report takes while ``guessers`` threads guess passwords
    on HTTP basic (the guess throttle off: only the bound on hashing acts)."""
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    classroom = enrol(url)
    env = {
        "GRADER_DATABASE_URL": url,
        "GRADER_INSTANCE_PATH": str(tmp_path / "instance"),
        "GRADER_SECRET_KEY": "starve test key",
        "GRADER_RATE_LIMIT": "0/minute",
        "GRADER_LOGIN_LIMIT": "0/minute",
        "GRADER_HASHING_SLOTS": slots,
    }
    stop = threading.Event()

    def guess(base: str) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                http.get(f"{base}/api/v1/submissions/1", auth=("prof", "guess"), timeout=30)

    latencies = []
    with Gunicorn(env, workers=4, log=tmp_path / "gunicorn.log") as gunicorn:
        threads = [threading.Thread(target=guess, args=(gunicorn.url,)) for _ in range(guessers)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.5)
            with requests.Session() as http:
                for _ in range(6):
                    started = time.perf_counter()
                    answer = http.post(
                        f"{gunicorn.url}/api/v1/submissions",
                        data=report_xml(),
                        headers={**XML, **classroom.bearer("ann")},
                        timeout=30,
                    )
                    latencies.append(time.perf_counter() - started)
                    assert answer.status_code == 201
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    return statistics.median(latencies)


def test_guessing_does_not_starve_a_students_reports(tmp_path: Path) -> None:
    """8 guessers against 4 workers: unbounded hashing (``GRADER_HASHING_SLOTS=0``, as
    before) against the default bound, measured in the same run."""
    unbounded = median_report_latency(tmp_path / "before", guessers=8, slots="0")
    bounded = median_report_latency(tmp_path / "after", guessers=8, slots="1")
    print(f"median report latency under 8 guessers: {unbounded * 1000:.0f} ms unbounded, "
          f"{bounded * 1000:.0f} ms with one hashing slot")  # fmt: skip
    assert bounded < unbounded / 2, (unbounded, bounded)


# --- sessions -------------------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(server: tuple[Gunicorn, Classroom]) -> None:
    """A cookie copied before logout (another tab, a stolen one) no longer logs in."""
    gunicorn, classroom = server
    user, password = INSTRUCTOR
    page = f"{gunicorn.url}/gradebook/{classroom.course}/"
    with requests.Session() as http:
        assert log_in(http, gunicorn.url, user, password).status_code == 302
        copied = http.cookies.get_dict()
        assert http.get(page, allow_redirects=False, timeout=10).status_code == 200
        token = CSRF.search(http.get(page, timeout=10).text)
        assert token is not None
        out = http.post(
            f"{gunicorn.url}/logout", data={"csrf_token": token[1]}, allow_redirects=False
        )
        assert out.status_code == 302
    replayed = requests.get(page, cookies=copied, allow_redirects=False, timeout=10)
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")
    # and a new login works as before
    with requests.Session() as http:
        assert log_in(http, gunicorn.url, user, password).status_code == 302
        assert http.get(page, allow_redirects=False, timeout=10).status_code == 200


def test_the_session_cookie_is_samesite_lax_and_httponly(
    server: tuple[Gunicorn, Classroom],
) -> None:
    gunicorn, _ = server
    user, password = INSTRUCTOR
    with requests.Session() as http:
        response = log_in(http, gunicorn.url, user, password)
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" not in cookie  # plain HTTP here: the recipe turns it on


def test_secure_cookies_is_a_setting(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    app = create_app(environ={"GRADER_DATABASE_URL": url, "GRADER_SECURE_COOKIES": "yes",
                              "GRADER_INSTANCE_PATH": str(tmp_path / "i")})  # fmt: skip
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login", base_url="https://grader.example")
    assert "Secure" in response.headers["Set-Cookie"]
    from webhook.config import ConfigError

    with pytest.raises(ConfigError, match="GRADER_SECURE_COOKIES"):
        create_app(environ={"GRADER_DATABASE_URL": url, "GRADER_SECURE_COOKIES": "maybe",
                            "GRADER_INSTANCE_PATH": str(tmp_path / "i")})  # fmt: skip


def test_api_json_and_csv_downloads_are_never_cached(
    server: tuple[Gunicorn, Classroom],
) -> None:
    gunicorn, classroom = server
    user, password = INSTRUCTOR
    stored = requests.post(
        f"{gunicorn.url}/api/v1/submissions",
        data=report_xml(),
        headers={**XML, **classroom.bearer("bob")},
        timeout=10,
    )
    assert stored.status_code == 201
    assert stored.headers["Cache-Control"] == "no-store"
    mine = requests.get(
        f"{gunicorn.url}/api/v1/submissions/{stored.json()['id']}",
        headers=classroom.bearer("bob"),
        timeout=10,
    )
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    with requests.Session() as http:
        assert log_in(http, gunicorn.url, user, password).status_code == 302
        csv = http.get(f"{gunicorn.url}/gradebook/{classroom.course}/export.csv", timeout=10)
    assert csv.status_code == 200 and csv.headers["Cache-Control"] == "no-store"


# --- both databases ---------------------------------------------------------------------------


def test_the_throttle_counts_alike_on_each_database(app: Flask, classroom: Classroom) -> None:
    """The counter's upsert on SQLite and PostgreSQL (the test client, one address)."""
    app.config["LOGIN_LIMIT_PARSED"] = (3, 300)
    client = app.test_client()
    codes = []
    for attempt in range(5):
        page = client.get("/login").get_data(as_text=True)
        found = CSRF.search(page)
        assert found is not None
        response = client.post(
            "/login",
            data={"username": "prof", "password": f"w{attempt}", "csrf_token": found[1]},
        )
        codes.append(response.status_code)
    assert codes == [401, 401, 401, 429, 429]


def guess_from(client: FlaskClient, forwarded: str, username: str) -> int:
    page = client.get("/login").get_data(as_text=True)
    found = CSRF.search(page)
    assert found is not None
    data = {"username": username, "password": "wrong", "csrf_token": found[1]}
    return client.post("/login", data=data, headers={"X-Forwarded-For": forwarded}).status_code


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_address_counted_is_the_proxys_client_only_when_the_proxy_is_trusted(
    sqlite_url: str, proxies: int
) -> None:
    """Behind nginx (GRADER_TRUSTED_PROXIES=1) two clients are counted apart; without a
    trusted proxy a forged X-Forwarded-For does not make a guesser someone else."""
    enrol(sqlite_url)
    app = create_app(app_config(sqlite_url, LOGIN_LIMIT="2/300s", TRUSTED_PROXIES=proxies))
    try:
        client = app.test_client()
        first = [guess_from(client, "10.0.0.1", f"user-{i}") for i in range(3)]
        other = guess_from(client, "10.0.0.2", "user-9")
    finally:
        app.extensions["grader_db"].dispose()
    assert first == [401, 401, 429]
    assert other == (401 if proxies else 429)


def test_over_https_a_form_from_another_site_is_refused(sqlite_url: str) -> None:
    """Over HTTPS the CSRF check also wants this site's Referer (a token leaked to another
    origin is not enough); the login from our own page works and its cookie is Secure."""
    enrol(sqlite_url)
    app = create_app(app_config(sqlite_url, SESSION_COOKIE_SECURE="yes"))
    base = "https://grader.example"
    try:
        client = app.test_client()
        page = client.get("/login", base_url=base).get_data(as_text=True)
        found = CSRF.search(page)
        assert found is not None
        user, password = INSTRUCTOR
        data = {"username": user, "password": password, "csrf_token": found[1]}
        forged = client.post(
            "/login", data=data, base_url=base, headers={"Referer": "https://evil.example/x"}
        )
        assert forged.status_code == 400
        assert "pages (Referer)" in forged.get_data(as_text=True)
        ours = client.post("/login", data=data, base_url=base, headers={"Referer": f"{base}/login"})
        assert ours.status_code == 302
        assert "Secure" in ours.headers["Set-Cookie"]
    finally:
        app.extensions["grader_db"].dispose()


def test_a_hashing_slot_is_shared_by_processes_and_refuses_when_all_are_taken(
    tmp_path: Path,
) -> None:
    """The bound itself: a slot held in another process (a worker) is taken; the next
    login is told to retry at once instead of holding its worker; 0 slots: no bound."""
    import multiprocessing

    from webhook.throttle import Throttled, hashing_slot

    held, release = multiprocessing.Event(), multiprocessing.Event()

    def worker() -> None:
        with hashing_slot(str(tmp_path), slots=1):
            held.set()
            release.wait(10)

    other = multiprocessing.get_context("fork").Process(target=worker)
    other.start()
    try:
        assert held.wait(10)
        with pytest.raises(Throttled) as refused, hashing_slot(str(tmp_path), slots=1):
            pass
        assert refused.value.retry_after == 1
        with hashing_slot(str(tmp_path), slots=2), hashing_slot(str(tmp_path), slots=0):
            pass  # a second slot, and no bound at all
    finally:
        release.set()
        other.join(10)
    with hashing_slot(str(tmp_path), slots=1):
        pass  # free again once the worker let go


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.text(
        alphabet=st.sampled_from(list("/\\:.@?#%ae \t\r\n\x00\u202e\u3002\uff0f")),
        max_size=12,
    )
)
def test_next_never_leads_off_site_whatever_it_says(target: str) -> None:
    """Whatever ``next`` holds, a browser resolving the redirect (tabs and line breaks
    removed first, as browsers do) stays on this host."""
    from webhook.gradebook.sessions import safe_next

    with _next_app().test_request_context("/login", base_url="https://grader.example"):
        for candidate in (target, "/" + target, "//" + target):
            followed = safe_next(candidate)
            seen_by_browser = re.sub(r"[\t\r\n]", "", followed).replace("\\", "/")
            resolved = urlsplit(urljoin("https://grader.example/login", seen_by_browser))
            assert resolved.netloc == "grader.example", (candidate, followed)


@functools.cache
def _next_app() -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
