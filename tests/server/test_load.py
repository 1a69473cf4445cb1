"""Under load: gunicorn with 4 workers on one SQLite file, 50 concurrent clients.

Every report is stored exactly once, repeats included; with a worker killed by
SIGKILL in the middle, every report that got a 2xx is in the database.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from devlab.server.enrolment import enrol, migrated_sqlite
from devlab.server.reports import report_xml
from devlab.server.services import Gunicorn
from submissions.reader import read_report

from .test_http import server_env

CLIENTS = 50
REPORTS = 1000
REPEATS = 150
STUDENTS = tuple(f"s{n:03d}" for n in range(40))
XML = {"Content-Type": "application/xml"}


def workload(seed: int) -> list[tuple[str, bytes]]:
    """1,000 (student, report) posts: 850 distinct reports, 150 sent again, shuffled."""
    rng = random.Random(seed)
    unique = [(rng.choice(STUDENTS), report_xml()) for _ in range(REPORTS - REPEATS)]
    posts = unique + [rng.choice(unique) for _ in range(REPEATS)]
    rng.shuffle(posts)
    return posts


class Clients:
    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.url = url + "/api/v1/submissions"
        self.tokens = tokens
        self.local = threading.local()

    def post(self, item: tuple[str, bytes]) -> tuple[str, int | str]:
        student, body = item
        report_id = read_report(body).report_id
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        headers = {**XML, "Authorization": f"Bearer {self.tokens[student]}"}
        try:
            response = session.post(self.url, data=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            return report_id, type(exc).__name__
        return report_id, response.status_code


def stored(path: Path) -> Counter[str]:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute("SELECT report_id FROM submission").fetchall()
        checks = connection.execute("SELECT count(*) FROM check_result").fetchone()[0]
    connection.close()
    counts = Counter(row[0] for row in rows)
    assert checks == 17 * len(counts)
    return counts


def test_every_report_is_stored_exactly_once(tmp_path: Path) -> None:
    database = tmp_path / "grader.sqlite"
    url = migrated_sqlite(database)
    classroom = enrol(url, students=STUDENTS)
    posts = workload(seed=1)
    with (
        Gunicorn(
            server_env(url, GRADER_RATE_LIMIT="100000/minute"), workers=4, log=tmp_path / "g.log"
        ) as server,
        ThreadPoolExecutor(CLIENTS) as pool,
    ):
        results = list(pool.map(Clients(server.url, classroom.tokens).post, posts))
        # The server checkpoints the WAL itself, off the request path: it stays small
        # (the database is about 10 MB after these 1,000 reports with their evidence; a WAL
        # never checkpointed holds every page written, more than that).
        assert Path(f"{database}-wal").stat().st_size < 8 * 1024 * 1024
    statuses = Counter(status for _, status in results)
    distinct = {report_id for report_id, _ in results}
    assert statuses == {201: len(distinct), 200: REPORTS - len(distinct)}, statuses
    counts = stored(database)
    assert set(counts) == distinct and set(counts.values()) == {1}


def test_a_worker_killed_mid_load_loses_no_acknowledged_report(tmp_path: Path) -> None:
    database = tmp_path / "grader.sqlite"
    url = migrated_sqlite(database)
    classroom = enrol(url, students=STUDENTS)
    posts = workload(seed=2)
    env = server_env(url, GRADER_RATE_LIMIT="100000/minute")
    done = threading.Semaphore(0)
    with Gunicorn(env, workers=4, log=tmp_path / "g.log") as server:
        clients = Clients(server.url, classroom.tokens)

        def post(item: tuple[str, bytes]) -> tuple[str, int | str]:
            try:
                return clients.post(item)
            finally:
                done.release()

        victims = []
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(post, item) for item in posts]
            # Three times, a busy worker dies (gunicorn starts another): mid-request,
            # perhaps mid-transaction, the odds are that some report is cut off.
            for _ in range(3):
                for _ in range(REPORTS // 4):
                    done.acquire()
                victims.append(server.workers()[0])
                os.kill(victims[-1], signal.SIGKILL)
            results = [future.result() for future in futures]
        assert not set(victims) & set(server.workers())
        acknowledged = {report_id for report_id, status in results if status in (200, 201)}
        assert acknowledged, Counter(status for _, status in results)
        counts = stored(database)
        assert acknowledged <= set(counts)
        assert set(counts.values()) == {1}
        # The server goes on: whatever did not get through goes again and is stored once.
        retried = [
            item
            for item, (_, status) in zip(posts, results, strict=True)
            if status not in (200, 201)
        ]
        again = [clients.post(item)[1] for item in retried]
        assert set(again) <= {200, 201}, Counter(again)
    assert set(stored(database)) == {report_id for report_id, _ in results}
