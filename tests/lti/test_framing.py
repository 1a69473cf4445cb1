"""Only the registered platforms may frame the tool's pages (the student's token among them)."""

from __future__ import annotations

import requests
from sqlalchemy import delete

from devlab.server.lms import ISSUER
from webhook.database import get_db
from webhook.lti.models import LtiRegistration

from .conftest import Lti


def frame_ancestors(response: requests.Response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    [directive] = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")]
    return directive.split()[1:]


def test_the_launch_page_with_the_token_may_be_framed_by_the_platform_only(lti: Lti) -> None:
    lti.sim.add_user("lms-user-1")
    page = lti.launch("lms-user-1")
    assert page.status_code == 200 and "GRADER_TOKEN=gls_" in page.text
    assert sorted(frame_ancestors(page)) == sorted([ISSUER, lti.sim.url])  # issuer, login URL


def test_every_registered_platform_may_frame_and_nothing_else(lti: Lti) -> None:
    args = lti.sim.platform_add_args("moodle")
    args[args.index("--issuer") + 1] = "https://moodle.example.edu"
    args[args.index("--client-id") + 1] = "moodle-client"
    args[args.index("--auth-login-url") + 1] = "https://moodle.example.edu/mod/lti/auth.php"
    assert lti.cli(*args).exit_code == 0
    refused = requests.get(f"{lti.base}/lti/login", params={"iss": "x"}, timeout=10)
    assert refused.status_code == 403
    assert sorted(frame_ancestors(refused)) == sorted(
        [ISSUER, lti.sim.url, "https://moodle.example.edu"]
    )


def test_with_no_platform_registered_no_one_may_frame(lti: Lti) -> None:
    with lti.app.app_context():
        session = get_db().session()
        session.execute(delete(LtiRegistration))
        session.commit()
        session.close()
    page = requests.get(f"{lti.base}/lti/config.json", timeout=10)
    assert frame_ancestors(page) == ["'none'"]


def test_an_lms_whose_pages_are_on_another_host_is_registered_with_its_frame_origin(
    lti: Lti,
) -> None:
    """Hosted Canvas: issuer canvas.instructure.com, course pages on SCHOOL.instructure.com."""
    args = lti.sim.platform_add_args("canvas")
    args[args.index("--issuer") + 1] = "https://canvas.instructure.com"
    args[args.index("--client-id") + 1] = "10000000000001"
    args += ["--frame-origin", "https://school.instructure.com"]
    assert lti.cli(*args).exit_code == 0
    page = requests.get(f"{lti.base}/lti/config.json", timeout=10)
    assert "https://school.instructure.com" in frame_ancestors(page)
    changed = lti.cli("lti", "platform", "set", "canvas", "--frame-origin", "none")
    assert changed.exit_code == 0
    page = requests.get(f"{lti.base}/lti/config.json", timeout=10)
    assert "https://school.instructure.com" not in frame_ancestors(page)
    assert "https://canvas.instructure.com" in frame_ancestors(page)


def test_a_frame_origin_that_is_no_origin_is_refused_and_nothing_changes(lti: Lti) -> None:
    before = lti.cli("lti", "platform", "list").output
    for bad in ("*", "https://school.instructure.com/courses", "javascript:x", "https://a b"):
        done = lti.cli("lti", "platform", "set", "sim", "--frame-origin", bad)
        assert done.exit_code == 8, (bad, done.output)
        assert "--frame-origin" in done.output
    assert lti.cli("lti", "platform", "list").output == before
