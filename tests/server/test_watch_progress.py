"""``grade --watch --submit``'s progress against a real server on a real port: coalesced,
dropped (never queued) when the server is away, stopped in one line when refused."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from flask import Flask
from flask.testing import FlaskCliRunner

from devlab.browser import served_in_thread
from devlab.server.enrolment import Classroom
from devlab.server.reports import make_report
from grader.report.progress import ProgressSender, document, http_post, progress_url
from tests.server.progress import LAB, turn_on

BOARD = f"/api/v1/courses/docker-101/assignments/{LAB}/board"


def _sender(base: str, token: str, said: list[str], every: float = 0.5) -> ProgressSender:
    return ProgressSender(
        http_post(progress_url(base + "/api/v1/submissions"), token),
        said.append,
        every=every,
        where=base.split("//")[1],
    )


def _ann(base: str, classroom: Classroom) -> dict[str, str]:
    board = requests.get(base + BOARD, auth=classroom.instructor, timeout=10).json()
    ann = next(s for s in board["students"] if s["id"] == "ann")
    return {check: shown["status"] for check, shown in ann["checks"].items()}


def _wait(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("not within the time")


def test_changes_are_coalesced_and_the_newest_lands(
    app: Flask, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    turn_on(runner)
    said: list[str] = []
    posts: list[dict[str, object]] = []
    with served_in_thread(app) as base:
        inner = http_post(progress_url(base), classroom.tokens["ann"])

        def counted(body: dict[str, object]) -> object:
            posts.append(body)
            return inner(body)

        host = base.split("//")[1]
        sender = ProgressSender(counted, said.append, every=1.0, where=host)  # type: ignore[arg-type]
        try:
            steps = [make_report(failing=("hello.runs", "mydb.running")) for _ in range(5)]
            steps += [make_report(failing=("hello.runs",)), make_report()]
            for report in steps:  # a burst of 7 runs within a fraction of a second
                sender.offer(report)
            _wait(lambda: _ann(base, classroom).get("hello.runs") == "passed")
            assert len(posts) <= 2  # the first at once, then only the newest
            sender.offer(make_report())  # the same state again: not sent
            time.sleep(1.3)
            assert len(posts) <= 2 and sender.sent == len(posts)
        finally:
            sender.close()
    assert said == [
        f"grade: sharing your progress with {host} for the class board"
        " (each check's status; progress is never a grade)"
    ]  # said once


def test_progress_off_stops_sending_with_one_line(
    app: Flask, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    said: list[str] = []
    with served_in_thread(app) as base:
        sender = _sender(base, classroom.tokens["ann"], said, every=0.1)
        try:
            sender.offer(make_report(failing=("hello.runs",)))
            _wait(lambda: sender.stopped)
            sender.offer(make_report())  # ignored: refused for good
            time.sleep(0.3)
        finally:
            sender.close()
    assert sender.sent == 0
    assert len(said) == 1 and said[0].startswith("grade: progress is not shared: ")
    assert "does not take progress" in said[0]


def test_a_server_away_is_said_once_and_nothing_waits(classroom: Classroom) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    said: list[str] = []
    sender = _sender(f"http://127.0.0.1:{port}", classroom.tokens["ann"], said, every=0.05)
    try:
        started = time.monotonic()
        for n in range(5):
            sender.offer(make_report(failing=("hello.runs",) if n % 2 else ()))
            time.sleep(0.1)
        assert time.monotonic() - started < 2  # offering never waits for the network
    finally:
        sender.close()
    assert sender.sent == 0 and not sender.stopped  # it would send again once back
    assert len(said) == 1 and "is not answering" in said[0]


@pytest.mark.parametrize("status", ["failed", "error"])
def test_the_document_holds_statuses_and_first_lines_only(status: str) -> None:
    from dataclasses import replace

    report = make_report(failing=("hello.runs",))
    results = tuple(
        replace(r, status=status, message="line one\nline two") if r.id == "hello.runs" else r
        for r in report.results
    )
    said = document(replace(report, results=results), "lab1")
    assert said["assignment"] == "lab1" and said["lab"] == report.lab
    shown = {c["id"]: c for c in said["checks"]}
    assert shown["hello.runs"] == {"id": "hello.runs", "status": status, "message": "line one"}
    assert shown["mydb.running"] == {"id": "mydb.running", "status": "passed"}
    assert "evidence" not in str(said)


def test_grade_watch_sends_each_runs_progress_and_says_so(
    app: Flask, runner: FlaskCliRunner, classroom: Classroom
) -> None:
    """The watch loop itself (``grade --watch --submit``'s): its runs' progress reaches the
    board, and the line saying so is on its console."""
    import io
    import threading

    from rich.console import Console

    from grader.run.watch import Watch

    turn_on(runner)
    out = io.StringIO()
    with served_in_thread(app) as base:
        watch = Watch(
            grade=lambda seen: (make_report(failing=("hello.runs",)), {}),
            events=lambda: iter(()),
            folders=[],
            console=Console(file=out, width=200),
            as_json=True,
            progress=(base, classroom.tokens["ann"], None),
        )
        threading.Timer(1.5, watch._stop.set).start()
        report, _ = watch.run()
        shown = _ann(base, classroom)
    assert report.lab == LAB
    assert shown["hello.runs"] == "failed" and shown["mydb.running"] == "passed"
    assert "grade: sharing your progress with" in out.getvalue()
