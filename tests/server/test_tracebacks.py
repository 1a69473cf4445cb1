"""What a client or a setting gets wrong is one line, never a traceback (issue 20, item 12).

A chunked body cut mid-chunk (or with a chunk size that is not hex) is a 400 from the
API and nothing but an access line in gunicorn's log.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from devlab.server.enrolment import Classroom, enrol, migrated_sqlite
from devlab.server.services import Gunicorn

from .test_http import server_env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gunicorn, Classroom]]:
    root = tmp_path_factory.mktemp("tracebacks")
    classroom = enrol(migrated_sqlite(root / "grader.sqlite"))
    with Gunicorn(server_env(classroom.url), workers=1, log=root / "gunicorn.log") as server:
        yield server, classroom


def answer(port: int, raw: bytes) -> str:
    """Send ``raw``, then say that is all (half-close), and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received.decode("latin-1")


@pytest.mark.parametrize(
    "body",
    [b"100\r\n<testsuites>", b"zz\r\n<testsuites>\r\n0\r\n\r\n"],
    ids=["cut mid-chunk", "not a chunk size"],
)
def test_a_broken_chunked_body_is_a_400_and_no_traceback(
    served: tuple[Gunicorn, Classroom], body: bytes
) -> None:
    server, classroom = served
    head = (
        "POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {classroom.tokens['ann']}\r\n"
        "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    reply = answer(server.port, head.encode() + body)
    assert reply.startswith("HTTP/1.1 400 "), reply[:300]
    assert '"error":"bad_report"' in reply.replace(" ", ""), reply
    time.sleep(0.3)  # the worker's log lines are written
    log = server.log.read_text()
    assert "Traceback" not in log and "Exception on" not in log, log[-3000:]
