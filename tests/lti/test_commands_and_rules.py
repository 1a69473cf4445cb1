"""``grade-server lti`` errors (one line, their exit code, nothing stored), and the pure rules:
back-off, what each pylti1p3 refusal is said as."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from devlab.server.lms import DEPLOYMENT_ID
from webhook.database import get_db
from webhook.lti.models import LtiDeployment, LtiRegistration
from webhook.lti.passback import MAX_BACKOFF, backoff
from webhook.lti.views import REASONS

from .conftest import Lti


def count(lti: Lti, model: type) -> int:
    with lti.app.app_context():
        session = get_db().session()
        n = int(session.scalar(select(func.count()).select_from(model)) or 0)
        session.close()
    return n


def test_registering_the_same_platform_twice_is_refused(lti: Lti) -> None:
    result = lti.cli(*lti.sim.platform_add_args())
    assert result.exit_code == 6 and "is registered with that name or client id" in result.output
    assert "Traceback" not in result.output
    assert count(lti, LtiRegistration) == 1


def test_a_platform_url_that_is_not_http_is_refused(lti: Lti) -> None:
    args = lti.sim.platform_add_args("other")
    args[args.index("--client-id") + 1] = "another-client"
    args[args.index("--key-set-url") + 1] = "file:///etc/passwd"
    result = lti.cli(*args)
    assert (
        result.exit_code == 8
        and "--key-set-url: 'file:///etc/passwd' is not an http(s) URL" in result.output
    )
    assert count(lti, LtiRegistration) == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nope", "d-2", "--course", "docker-101"], "no platform named 'nope'"),
        (["sim", "d-2", "--course", "nope"], "no course 'nope'"),
    ],
)
def test_a_deployment_of_something_unknown_is_refused(lti: Lti, args: list[str], said: str) -> None:
    result = lti.cli("lti", "deployment", "add", *args)
    assert result.exit_code == 3 and said in result.output
    assert count(lti, LtiDeployment) == 1


def test_a_deployment_registered_twice_is_refused(lti: Lti) -> None:
    result = lti.cli("lti", "deployment", "add", "sim", DEPLOYMENT_ID, "--course", "docker-101")
    assert result.exit_code == 6
    assert count(lti, LtiDeployment) == 1


def test_platform_list_names_each_deployment(lti: Lti) -> None:
    result = lti.cli("lti", "platform", "list")
    assert result.exit_code == 0
    assert f"deployment {DEPLOYMENT_ID} -> course docker-101" in result.output


def test_backoff_doubles_up_to_ten_minutes() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff(0) == 2.0 and backoff(50) == MAX_BACKOFF == 600.0


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("Can't decode id_token: Signature has expired", "expired"),
        ("Can't decode id_token: Signature verification failed", "bad_signature"),
        ("Invalid Nonce", "replayed"),
        ("Registration not found.", "unknown_platform"),
        ("Unable to find deployment", "unknown_deployment"),
        ("State not found", "no_state"),
    ],
)
def test_each_refusal_of_pylti1p3_has_its_reason(said: str, kind: str) -> None:
    found = next(found for needle, found, _ in REASONS if needle in said.lower())
    assert found == kind


def test_the_passback_waits_for_requests_in_flight_but_not_forever() -> None:
    import time

    from webhook.lti.passback import InFlight

    requests = InFlight()
    started = time.monotonic()
    requests.wait_idle(1.0)
    assert time.monotonic() - started < 0.05  # nothing in flight: no wait
    requests.begin()
    started = time.monotonic()
    requests.wait_idle(0.2)
    assert 0.2 <= time.monotonic() - started < 0.5  # a request in flight: waits, then goes
    requests.end()
    started = time.monotonic()
    requests.wait_idle(1.0)
    assert time.monotonic() - started < 0.05
