"""Under gunicorn with 4 workers: every launch succeeds (nonces and state in the database,
not per process) and a grade reaches the LMS by itself (the workers' passback threads)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from devlab.server.enrolment import app_config, enrol, migrated_sqlite
from devlab.server.lms import DEPLOYMENT_ID, Simulator
from devlab.server.reports import report_xml
from devlab.server.services import Gunicorn
from webhook import create_app
from webhook.lti import services

from .conftest import Lti

LAUNCHES = 24


@dataclass
class Served:
    lti: Lti
    gunicorn: Gunicorn


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("lti-gunicorn")
    url = migrated_sqlite(root / "grader.sqlite")
    classroom = enrol(url)
    env = {
        "GRADER_DATABASE_URL": url,
        "GRADER_INSTANCE_PATH": str(root / "instance"),
        "GRADER_SECRET_KEY": "lti gunicorn test key",
        "GRADER_RATE_LIMIT": "1000/minute",
    }
    gunicorn = Gunicorn(env, workers=4, log=root / "gunicorn.log")
    sim = Simulator(gunicorn.url).start()
    app = create_app(app_config(url))
    lti = Lti(app, gunicorn.url, sim, classroom)
    for args in (
        ["lti", "key", "generate"],
        sim.platform_add_args(),
        ["lti", "deployment", "add", "sim", DEPLOYMENT_ID, "--course", classroom.course],
    ):
        result = lti.cli(*args)
        assert result.exit_code == 0, result.output
    services.forget_tokens()
    with gunicorn:
        yield Served(lti, gunicorn)
    sim.stop()
    app.extensions["grader_db"].dispose()


def test_every_launch_succeeds_whichever_worker_takes_each_step(served: Served) -> None:
    lti = served.lti
    assert len(served.gunicorn.workers()) == 4
    for n in range(LAUNCHES):
        lti.sim.add_user(f"lms-{n}")
        lti.browser = requests.Session()  # a new browser each time: a new connection
        page = lti.launch(f"lms-{n}")
        assert page.status_code == 200, (n, page.text)
        assert "GRADER_TOKEN=gls_" in page.text


def test_a_grade_reaches_the_lms_by_itself(served: Served) -> None:
    lti = served.lti
    lti.sim.add_user("lms-ann", sourcedid="ann")
    lti.browser = requests.Session()
    assert lti.launch("lms-ann").status_code == 200
    assert lti.submit("ann", report_xml()).status_code == 201
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not lti.sim.scores:
        time.sleep(0.1)
    time.sleep(2)  # four workers' threads have each had a round: still one score
    assert [(s.body["userId"], s.body["scoreGiven"]) for s in lti.sim.scores] == [("lms-ann", 28)]


def test_first_launches_at_the_same_moment_all_succeed(served: Served) -> None:
    """Eight new students open the lab at once (new roster rows, members, outbox rows, all
    racing on the same database through four workers)."""
    from concurrent.futures import ThreadPoolExecutor

    lti = served.lti
    forms = []
    for n in range(8):
        lti.sim.add_user(f"lms-at-once-{n}")
        lti.browser = requests.Session()
        forms.append((lti.browser, lti.platform_form(f"lms-at-once-{n}")))

    def post(pair: tuple[requests.Session, dict[str, str]]) -> int:
        browser, form = pair
        data = {k: v for k, v in form.items() if k != "action"}
        return browser.post(form["action"], data=data, timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, forms)) == [200] * 8
