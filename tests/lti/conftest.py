"""The tool (the real app, served on loopback) and the platform simulator beside it.

``lti`` gives a course ``docker-101`` (students ann and bob, known tokens) whose
deployment in the simulated LMS is registered with ``grade-server lti`` commands, and a
browser (a requests session keeping cookies) that follows the platform's redirects and
posts its launch form as a browser's script would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from devlab.server.enrolment import Classroom, app_config, enrol, migrated_sqlite
from devlab.server.lms import DEPLOYMENT_ID, Simulator
from devlab.server.reports import make_report, report_xml
from submissions.dialect import CheckResult
from submissions.rubric import Rubric
from tests.server.conftest import pg_server, pg_url  # noqa: F401 (fixtures)
from webhook import create_app
from webhook.database import get_db
from webhook.lti import passback, services


@dataclass
class Lti:
    app: Flask
    base: str
    sim: Simulator
    classroom: Classroom
    browser: requests.Session = field(default_factory=requests.Session)

    def cli(self, *args: str) -> Any:
        result = self.app.test_cli_runner().invoke(args=list(args))
        return result

    def launch(self, sub: str, *, kind: str = "resource") -> requests.Response:
        """Open the tool from the LMS as ``sub``: login, the platform's form, its POST."""
        form = self.platform_form(sub, kind=kind)
        return self.post_form(form)

    def launch_link(self, sub: str, link: int) -> str:
        """Open the ``link``-th link deep linking made, as ``sub``: the tool's page."""
        page = self.post_form(self.platform_form(sub, link=link))
        assert page.status_code == 200, page.text
        return page.text

    def platform_form(
        self, sub: str, *, kind: str = "resource", link: int | None = None
    ) -> dict[str, str]:
        page = self.browser.get(self.sim.launch_url(sub, kind=kind, link=link), timeout=30)
        assert page.status_code == 200, page.text
        action = re.search(r'<form id="launch" method="post" action="([^"]+)"', page.text)
        assert action is not None, page.text
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
        )
        return {"action": unescape(action.group(1)), **{k: unescape(v) for k, v in fields.items()}}

    def post_form(self, form: dict[str, str]) -> requests.Response:
        data = {k: v for k, v in form.items() if k != "action"}
        return self.browser.post(form["action"], data=data, timeout=30)

    def submit(self, student: str, xml: bytes) -> requests.Response:
        return requests.post(
            f"{self.base}/api/v1/submissions",
            data=xml,
            headers={"Content-Type": "application/xml", **self.classroom.bearer(student)},
            timeout=30,
        )

    def submit_with(self, token: str) -> requests.Response:
        from devlab.server.reports import report_xml

        return requests.post(
            f"{self.base}/api/v1/submissions",
            data=report_xml(),
            headers={"Content-Type": "application/xml", "Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def send_grades(self) -> list[passback.Outcome]:
        with self.app.app_context():
            return passback.run_once(get_db().engine)

    def due_now(self) -> None:
        """Skip the back-off: every waiting row is due."""
        from sqlalchemy import update

        from webhook.lti.models import LtiPassback
        from webhook.storage.models import utcnow

        with self.app.app_context(), get_db().engine.begin() as connection:
            connection.execute(update(LtiPassback).values(next_try_at=utcnow()))


def serve(app: Flask) -> tuple[str, Any]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def lti(tmp_path: Path) -> Iterator[Lti]:
    """The tool on a SQLite file."""
    yield from tool_and_platform(migrated_sqlite(tmp_path / "grader.sqlite"))


@pytest.fixture
def lti_pg(request: pytest.FixtureRequest) -> Iterator[Lti]:
    """The tool on PostgreSQL (the server tests' cluster, a new database)."""
    yield from tool_and_platform(request.getfixturevalue("pg_url"))


def tool_and_platform(url: str) -> Iterator[Lti]:
    app = create_app(app_config(url))
    base, server = serve(app)
    sim = Simulator(base).start()
    classroom = enrol(url)
    env = Lti(app, base, sim, classroom)
    for args in (
        ["lti", "key", "generate"],
        sim.platform_add_args(),
        ["lti", "deployment", "add", "sim", DEPLOYMENT_ID, "--course", classroom.course],
    ):
        result = env.cli(*args)
        assert result.exit_code == 0, result.output
    services.forget_tokens()
    try:
        yield env
    finally:
        sim.stop()
        server.shutdown()
        server.server_close()
        env.browser.close()
        app.extensions["grader_db"].dispose()


def lab_report(rubric: Rubric) -> bytes:
    """A report of every check of ``rubric``'s lab, passed, each with evidence, from the
    grader version and checks the rubric knows."""
    report = make_report()
    evidence = next(result.evidence for result in report.results if result.evidence)
    results = tuple(
        CheckResult(
            id=entry.id, task=entry.task, title=entry.title, status="passed",
            points=entry.points, max_points=entry.points, message="", hint="",
            evidence=evidence,
        )
        for entry in rubric.entries
    )  # fmt: skip
    return report_xml(
        replace(
            report,
            lab=rubric.lab,
            results=results,
            checks_digest=sorted(rubric.known_digests)[0],
            grader_version=sorted(rubric.known_versions)[0],
        )
    )
