"""Guessing an instructor's password locks out the guesser, not the instructor.

Issue 20, item 5 (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a
browser that logged in as an instructor before carries a signed device cookie naming
them; failures elsewhere do not block it, its own failures count against it alone, and
every other client (a fresh browser, HTTP basic) keeps today's per-username and
per-address limits. Addresses are the test client's ``REMOTE_ADDR`` (no proxy trusted).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devlab.server.enrolment import INSTRUCTOR, app_config, enrol
from webhook import create_app
from webhook.auth import hash_password
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Instructor

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ALICE, PASSWORD = INSTRUCTOR
MALLORY = ("mallory", "mallory's own password")
LIMIT = 10


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    enrol(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        session.add(Instructor(username=MALLORY[0], password_hash=hash_password(MALLORY[1])))
        session.commit()
    engine.dispose()
    # windows of an hour: none ends in the middle of a test
    app = create_app(app_config(sqlite_url, LOGIN_LIMIT=f"{LIMIT}/3600s"))
    yield app
    app.extensions["grader_db"].dispose()


def browser(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(client: FlaskClient, username: str, password: str) -> int:
    found = CSRF.search(client.get("/login").get_data(as_text=True))
    assert found is not None
    data = {"username": username, "password": password, "csrf_token": found[1]}
    return client.post("/login", data=data).status_code


def log_out(client: FlaskClient) -> None:
    found = CSRF.search(client.get("/gradebook/", follow_redirects=True).get_data(as_text=True))
    assert found is not None
    assert client.post("/logout", data={"csrf_token": found[1]}).status_code == 302


def basic(client: FlaskClient, username: str, password: str) -> int:
    return client.get("/gradebook/", auth=(username, password)).status_code


def guess(client: FlaskClient, username: str, times: int) -> list[int]:
    return [log_in(client, username, f"wrong {n}") for n in range(times)]


def test_guesses_from_elsewhere_do_not_lock_out_a_browser_that_logged_in_before(
    app: Flask,
) -> None:
    alice = browser(app, "10.0.0.5")
    assert log_in(alice, ALICE, PASSWORD) == 302  # her browser now carries a device cookie
    log_out(alice)

    attacker = browser(app, "10.6.6.6")
    codes = guess(attacker, ALICE, LIMIT + 2)
    assert codes[:LIMIT] == [401] * LIMIT and codes[LIMIT:] == [429, 429]

    # alice, from her browser: at once
    assert log_in(alice, ALICE, PASSWORD) == 302
    # a fresh browser at another address, even with the right password: throttled per
    # username, as before (an untrusted client cannot log in as alice this window)
    assert log_in(browser(app, "10.0.0.7"), ALICE, PASSWORD) == 429
    # HTTP basic has no device cookie: per username and per address, as before
    assert basic(browser(app, "10.0.0.8"), ALICE, PASSWORD) == 429
    # the attacker's address stays throttled, whatever username it tries next
    assert log_in(attacker, MALLORY[0], MALLORY[1]) == 429


def test_failures_with_a_device_cookie_count_against_that_cookie_only(app: Flask) -> None:
    alice = browser(app, "10.0.0.5")
    assert log_in(alice, ALICE, PASSWORD) == 302
    log_out(alice)
    codes = guess(alice, ALICE, LIMIT + 1)
    assert codes[:LIMIT] == [401] * LIMIT and codes[LIMIT] == 429
    assert log_in(alice, ALICE, PASSWORD) == 429  # this browser is throttled now...
    # ...but neither the username nor the address: another browser, even at her address
    assert log_in(browser(app, "10.0.0.5"), ALICE, PASSWORD) == 302


def test_a_device_cookie_is_good_for_its_own_instructor_only(app: Flask) -> None:
    """The attacker's own login gives a cookie naming the attacker: guessing alice with it,
    under its own name or renamed to alice's, counts as any untrusted client."""
    attacker = browser(app, "10.6.6.6")
    assert log_in(attacker, *MALLORY) == 302
    assert attacker.get_cookie(_device_cookie_name(MALLORY[0])) is not None
    log_out(attacker)
    stolen = attacker.get_cookie(_device_cookie_name(MALLORY[0]))
    assert stolen is not None
    attacker.set_cookie(_device_cookie_name(ALICE), stolen.value)
    codes = guess(attacker, ALICE, LIMIT + 1)
    assert codes[LIMIT] == 429
    # and alice's username is throttled for untrusted clients, as before
    assert log_in(browser(app, "10.0.0.9"), ALICE, PASSWORD) == 429


def test_the_device_cookie_is_signed_httponly_and_long_lived(app: Flask) -> None:
    alice = browser(app, "10.0.0.5")
    found = CSRF.search(alice.get("/login").get_data(as_text=True))
    assert found is not None
    response = alice.post(
        "/login", data={"username": ALICE, "password": PASSWORD, "csrf_token": found[1]}
    )
    assert response.status_code == 302
    header = next(
        h
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith(_device_cookie_name(ALICE))
    )
    assert "HttpOnly" in header and "SameSite=Strict" in header
    assert "Max-Age=" in header
    max_age = int(re.search(r"Max-Age=(\d+)", header)[1])  # type: ignore[index]
    assert max_age >= 30 * 24 * 3600
    # a tampered value is no device cookie: guessing with it is an untrusted client's
    cookie = alice.get_cookie(_device_cookie_name(ALICE))
    assert cookie is not None
    alice.set_cookie(_device_cookie_name(ALICE), cookie.value[:-2] + "xx")
    log_out(alice)
    codes = guess(alice, ALICE, LIMIT + 1)
    assert codes[LIMIT] == 429
    assert log_in(browser(app, "10.0.0.9"), ALICE, PASSWORD) == 429


def _device_cookie_name(username: str) -> str:
    from webhook.devices import cookie_name

    return cookie_name(username)
