"""An instructor's verified report: sent for one student, waiting in that student's own outbox."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from grader.report.submit import STUDENT_HEADER, submit_report, verified_outbox, waiting

REPORT = b"<testsuites/>"  # the server would refuse it; the client only carries it


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A server that takes every report (201) and remembers each request's headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(dict(self.headers))
            body = json.dumps({"id": len(seen), "score": 28, "max_score": 28}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def test_each_student_has_an_outbox_of_their_own() -> None:
    environ = {"HOME": "/home/ta"}
    ada = verified_outbox("docker-101/ada", environ)
    assert ada == Path("/home/ta/.local/share/grade/verified/docker-101/ada")
    assert verified_outbox("docker-101/bo", environ) != ada
    sneaky = os.path.normpath(verified_outbox("../x/../../y", environ))
    assert Path(sneaky).is_relative_to(ada.parent.parent)


def test_the_report_names_its_student_and_only_then(
    server: tuple[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    url, seen = server
    verified = submit_report(
        REPORT, "r-1", url=url, token="gli_x", student="docker-101/ada", outbox=tmp_path / "ada"
    )
    assert verified.ok
    own = submit_report(REPORT, "r-2", url=url, token="gls_y", outbox=tmp_path / "own")
    assert own.ok
    assert seen[0][STUDENT_HEADER] == "docker-101/ada"
    assert STUDENT_HEADER not in seen[1]
    assert waiting(tmp_path / "ada") == [] and waiting(tmp_path / "own") == []
