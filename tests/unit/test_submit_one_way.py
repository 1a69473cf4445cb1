"""The report goes one way on submit: kept once, never parsed, each waiting report read once.

``grade`` passes the id it wrote into the report; a waiting report's id is in its file's
name, as every release has named it, so an outbox left by the previous release still goes
out. The server is a stand-in session that answers as ``webhook/api.py`` does.
"""

from __future__ import annotations

import builtins
import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree
import pytest
import requests
from requests.structures import CaseInsensitiveDict

import submissions.reader
from grader.report.submit import submit_report, waiting

XML = b'<testsuites><testsuite name="docker-lab"/></testsuites>'


def response(status: int, body: dict[str, object], **headers: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(body).encode()
    answer.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
    return answer


class Server:
    """A stand-in session: each POST gets the next answer (or raises it); bodies are kept."""

    def __init__(self, *answers: requests.Response | Exception) -> None:
        self.answers = list(answers)
        self.bodies: list[bytes] = []

    def post(self, url: str, *, data: bytes, **kwargs: Any) -> requests.Response:
        self.bodies.append(data)
        answer = self.answers.pop(0) if self.answers else stored(len(self.bodies))
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


def stored(number: int) -> requests.Response:
    return response(201, {"id": number, "score": 28, "max_score": 28})


def send(xml: bytes, report_id: str, outbox: Path, server: Server) -> Any:
    return submit_report(
        xml,
        report_id,
        url="https://grades.example",
        token="gls_secret",
        outbox=outbox,
        session=server,  # type: ignore[arg-type]
    )


def left_by_the_previous_release(outbox: Path, report_id: str, xml: bytes) -> Path:
    """A report the previous release could not send: ``<time_ns, 20 digits>-<id>.xml``."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{time.time_ns():020d}-{report_id}.xml"
    path.write_bytes(xml)
    return path


def test_a_report_left_waiting_by_the_previous_release_goes_out_first(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    old = b"<testsuites><!-- graded last week --></testsuites>"
    left_by_the_previous_release(outbox, "0b5e3c1e-6f4a-4d2b-9c8e-1a2b3c4d5e6f", old)
    unreadable = b"<testsuites"  # the previous release named such a report by its hash
    left_by_the_previous_release(outbox, "sha256-" + "c" * 32, unreadable)
    server = Server()
    outcome = send(XML, "5d41402a-bc4b-4a76-b971-9d911017c592", outbox, server)
    assert outcome.state == "submitted" and outcome.message == "submitted: score 28/28"
    assert server.bodies == [old, unreadable, XML]
    assert [d.report_id for d in outcome.delivered] == [
        "0b5e3c1e-6f4a-4d2b-9c8e-1a2b3c4d5e6f",
        "sha256-" + "c" * 32,
        "5d41402a-bc4b-4a76-b971-9d911017c592",
    ]
    assert waiting(outbox) == []


def test_a_refused_waiting_report_is_named_by_its_file(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    left_by_the_previous_release(outbox, "old-1", b"<testsuites/>")
    refusal = response(400, {"error": "bad_report", "reason": "no property report_id"})
    outcome = send(XML, "new-1", outbox, Server(refusal))
    assert outcome.rejected == (("old-1", "no property report_id"),)
    assert outcome.state == "submitted" and [d.report_id for d in outcome.delivered] == ["new-1"]
    assert (outbox / "rejected").is_dir() and waiting(outbox) == []


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Path, str]]]:
    """Every file opened by name while the test runs, with its mode."""
    seen: list[tuple[Path, str]] = []
    real = io.open

    def spy(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path):
            seen.append((Path(file), mode))
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", spy)
    monkeypatch.setattr(builtins, "open", spy)
    yield seen


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a report's XML fails the test: submit has the id it needs."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("submit parsed a report's XML")

    parsers: list[tuple[object, str]] = [
        (submissions.reader, "read_report"),
        (defusedxml.ElementTree, "fromstring"),
        (defusedxml.ElementTree, "parse"),
    ]
    for module, name in parsers:
        monkeypatch.setattr(module, name, refuse)


def test_submit_parses_no_report_and_reads_each_waiting_one_once(
    tmp_path: Path, opened: list[tuple[Path, str]], no_parsing: None
) -> None:
    outbox = tmp_path / "outbox"
    earlier = left_by_the_previous_release(outbox, "earlier-1", b"<testsuites/>")
    opened.clear()
    outcome = send(XML, "now-1", outbox, Server())
    assert outcome.ok and len(outcome.delivered) == 2
    reads = [path for path, mode in opened if path.parent == outbox and "r" in mode]
    assert reads == [earlier]  # this report is sent as written, from memory


def test_the_parsing_spy_would_see_a_read_back(no_parsing: None) -> None:
    read: Callable[[bytes], object] = submissions.reader.read_report
    with pytest.raises(AssertionError, match="parsed"):
        read(XML)


def test_no_answer_and_a_timeout_keep_every_report(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    down = send(XML, "r-1", outbox, Server(requests.ConnectionError("refused")))
    assert down.state == "queued"
    assert down.message == (
        "not submitted: the server at https://grades.example/api/v1/submissions cannot be "
        f"reached (ConnectionError); the report waits in {outbox} and goes out with the next "
        "submit"
    )
    slow = send(XML, "r-2", outbox, Server(requests.ReadTimeout("10 s")))
    assert slow.state == "queued" and "(ReadTimeout)" in slow.message
    assert [path.name.partition("-")[2] for path in waiting(outbox)] == ["r-1.xml", "r-2.xml"]


def test_a_pace_refusal_says_when_and_keeps_the_report(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    limited = response(
        429, {"error": "rate_limited", "reason": "1 per 1 hour"}, **{"Retry-After": "3599"}
    )
    outcome = send(XML, "r-1", outbox, Server(limited))
    assert outcome.state == "rejected"
    assert "(429: 1 per 1 hour; retry after 3599 s)" in outcome.message
    assert len(waiting(outbox)) == 1


def test_an_answer_that_is_not_json_is_still_an_answer(tmp_path: Path) -> None:
    html = requests.Response()
    html.status_code = 502
    html._content = b"<html>Bad Gateway</html>"
    outcome = send(XML, "r-1", tmp_path / "outbox", Server(html))
    assert outcome.state == "queued" and "the server answered 502 (HTTP 502)" in outcome.message
