"""The student's side: ``submit_report`` against gunicorn, a dead server and a failing one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devlab.server.enrolment import Classroom, enrol, migrated_sqlite
from devlab.server.reports import make_report, report_xml
from devlab.server.services import Gunicorn, free_port
from grader.report.submit import SubmitOutcome, default_outbox, submit_report, waiting
from webhook.storage.models import Submission

from .test_api import count
from .test_http import server_env


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Classroom]]:
    root = tmp_path_factory.mktemp("submit")
    url = migrated_sqlite(root / "grader.sqlite")
    classroom = enrol(url)
    with Gunicorn(server_env(url), workers=2, log=root / "g.log") as server:
        yield server.url, classroom


@pytest.fixture
def failing() -> Iterator[str]:
    """A server that answers every request with 503."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def send(failing: tuple[str, ...] = (), **where: Any) -> SubmitOutcome:
    """A new report, submitted as grade submits it: its bytes and the id written into them."""
    report = make_report(failing=failing)
    return submit_report(report_xml(report), report.report_id, **where)


def test_the_default_outbox_follows_xdg() -> None:
    assert default_outbox({"HOME": "/home/s"}) == Path("/home/s/.local/share/grade/outbox")
    assert default_outbox({"XDG_DATA_HOME": "/x", "HOME": "/h"}) == Path("/x/grade/outbox")


def test_unreachable_then_everything_goes_out(
    live: tuple[str, Classroom], failing: str, tmp_path: Path
) -> None:
    url, classroom = live
    outbox = tmp_path / "outbox"
    token = classroom.tokens["bob"]
    dead = f"http://127.0.0.1:{free_port()}"
    first = send(url=dead, token=token, outbox=outbox, timeout=2)
    assert first.state == "queued" and "cannot be reached" in first.message
    second = send(url=failing, token=token, outbox=outbox, timeout=2)
    assert second.state == "queued" and "503" in second.message
    assert len(waiting(outbox)) == 2
    before = count(classroom.url, Submission)
    third = send(("hello.runs",), url=url, token=token, outbox=outbox)
    assert third.state == "submitted", third.message
    assert (third.score, third.max_score) == (26, 28)
    assert [d.report_id for d in third.delivered] == [
        first.report_id,
        second.report_id,
        third.report_id,
    ]
    assert waiting(outbox) == []
    assert count(classroom.url, Submission) == before + 3
    for outcome in (first, second, third):
        assert token not in outcome.message and token not in repr(outcome)


def test_sending_the_same_report_again_is_harmless(
    live: tuple[str, Classroom], tmp_path: Path
) -> None:
    url, classroom = live
    report = make_report()
    body, report_id = report_xml(report), report.report_id
    outbox = tmp_path / "outbox"
    one = submit_report(body, report_id, url=url, token=classroom.tokens["ann"], outbox=outbox)
    two = submit_report(
        body,
        report_id,
        url=url + "/api/v1/submissions/",
        token=classroom.tokens["ann"],
        outbox=outbox,
    )
    assert one.state == two.state == "submitted"
    assert one.delivered[0].submission_id == two.delivered[0].submission_id
    assert (one.delivered[0].status, two.delivered[0].status) == (201, 200)


def test_a_refused_report_says_why_and_is_kept_aside(
    live: tuple[str, Classroom], tmp_path: Path
) -> None:
    url, classroom = live
    outbox = tmp_path / "outbox"
    outcome = submit_report(
        b"<testsuites", "broken-1", url=url, token=classroom.tokens["ann"], outbox=outbox
    )
    assert outcome.state == "rejected"
    assert "400" in outcome.message and "not well-formed" in outcome.message
    assert waiting(outbox) == []
    kept = list((outbox / "rejected").glob("*.xml"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"<testsuites"


def test_a_wrong_token_keeps_the_report_waiting(
    live: tuple[str, Classroom], tmp_path: Path
) -> None:
    url, classroom = live
    outbox = tmp_path / "outbox"
    secret = "wrong-token-do-not-print"
    outcome = send(url=url, token=secret, outbox=outbox)
    assert outcome.state == "rejected" and "refused the token (401" in outcome.message
    assert secret not in outcome.message
    assert len(waiting(outbox)) == 1
    later = send(url=url, token=classroom.tokens["ann"], outbox=outbox)
    assert later.state == "submitted" and len(later.delivered) == 2


def test_too_many_reports_wait_for_later(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "grader.sqlite")
    classroom = enrol(url)
    env = server_env(url, GRADER_RATE_LIMIT="1/hour")
    outbox = tmp_path / "outbox"
    with Gunicorn(env, workers=1, log=tmp_path / "g.log") as server:
        token = classroom.tokens["ann"]
        assert send(url=server.url, token=token, outbox=outbox).ok
        limited = send(url=server.url, token=token, outbox=outbox)
    assert limited.state == "rejected" and "429" in limited.message
    assert len(waiting(outbox)) == 1


def test_a_student_grading_in_spanish_reads_the_servers_reason_in_spanish(
    live: tuple[str, Classroom], tmp_path: Path
) -> None:
    """``grade`` asks for its own language (Accept-Language); the decision is the same."""
    from grader import i18n

    url, _classroom = live
    english = send(url=url, token="wrong-token", outbox=tmp_path / "english")
    i18n.use("es")
    try:
        spanish = send(url=url, token="wrong-token", outbox=tmp_path / "spanish")
    finally:
        i18n.use(None, {})
    assert english.state == spanish.state == "rejected"
    assert "(401: the token is not valid)" in english.message
    assert "(401: el token no es válido)" in spanish.message
    assert len(waiting(tmp_path / "spanish")) == 1  # kept to send again, as in English
