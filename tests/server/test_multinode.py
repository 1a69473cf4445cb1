"""Two app nodes on one PostgreSQL behind the recipe's nginx (issue 23, the ``multinode`` tier).

docs/server.md's multi-node recipe, started for real: PostgreSQL, two gunicorn nodes
(``deploy/gunicorn.conf.py``, an instance folder each, one ``GRADER_SECRET_KEY``) and
``deploy/nginx``'s site with both in its upstream. What must hold across nodes, each asserted
as a decision:

- 400 students submit through nginx at once, copies among them: every report stored once,
  every copy flagged naming the student it copied, and the Canvas export byte for byte the
  one a single node makes of the same reports;
- two students' copies sent at the same instant, one to each node: exactly one of the two is
  flagged, naming the other (the cross-check's advisory locks hold across processes);
- a login throttled through node A is throttled on node B, and so is a student's report rate;
- a session cookie (and its CSRF token) from node A is good on node B;
- LTI launches succeed whichever node takes each step, and a passback burst with both nodes
  running the outbox sends each score exactly once.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, select

from devlab.server.enrolment import Classroom, app_config, enrol
from devlab.server.lms import DEPLOYMENT_ID, ROLE_INSTRUCTOR, ROLE_LEARNER, Simulator, User
from devlab.server.reports import Lab, make_report, report_xml
from devlab.server.services import Gunicorn, Postgres
from grader.report.submit import SubmitOutcome, submit_report
from tests.lti.conftest import Lti
from webhook import create_app
from webhook.storage.db import is_migrated, make_engine, upgrade
from webhook.storage.models import Course, Flag, RateLimitWindow, Student, Submission

from .cluster import Front, front, nodes, posts_served
from .test_logins import log_in
from .windows import within_one_window

pytestmark = pytest.mark.multinode

STUDENTS = 400
COPIES = 40  # the last COPIES students send a copy of the first COPIES' reports
RACES = 50  # pairs of students whose copies reach the two nodes at the same instant
PASSBACK = 80  # LMS learners whose scores both nodes' outboxes send
LIMITS = {"GRADER_RATE_LIMIT": "5/hour", "GRADER_LOGIN_LIMIT": "3/300s"}
XML = {"Content-Type": "application/xml"}


def burst_ids() -> list[str]:
    return [f"s{n:03}" for n in range(STUDENTS)]


def passback_ids() -> list[str]:
    return [f"p{n:03}" for n in range(PASSBACK)]


def enrol_all(url: str) -> tuple[Classroom, Classroom]:
    """docker-101 (the burst, the passback's learners, the rate limit's student) and
    docker-202 (the races), in a migrated database."""
    upgrade(url)
    main = enrol(url, students=(*burst_ids(), *passback_ids(), "rate"))
    races = enrol(url, [f"x{n:03}" for n in range(2 * RACES)], "docker-202", admin=False)
    return main, races


@dataclass(frozen=True)
class Cluster:
    pg: Postgres
    url: str
    node_a: Gunicorn
    node_b: Gunicorn
    front: Front
    classroom: Classroom
    races: Classroom
    root: Path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, pg_server: Postgres) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("multinode")
    url = pg_server.create_database(f"multinode_{uuid.uuid4().hex[:8]}")
    classroom, races = enrol_all(url)
    with nodes(root, url, **LIMITS) as (node_a, node_b), front(root, [node_a, node_b]) as nginx:
        yield Cluster(pg_server, url, node_a, node_b, nginx, classroom, races, root)


def basic(username: str, password: str) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


def burst_bodies() -> dict[str, bytes]:
    """Each student's report: their own lab, or (the last COPIES) another's under a new id."""
    ids = burst_ids()
    originals = {student: make_report() for student in ids[: STUDENTS - COPIES]}
    bodies = {student: report_xml(report) for student, report in originals.items()}
    for n, copier in enumerate(ids[STUDENTS - COPIES :]):
        copied = replace(originals[ids[n]], report_id=uuid.uuid4().hex)
        bodies[copier] = report_xml(copied)
    return bodies


def copied_from(student: str) -> str | None:
    number = int(student[1:])
    return f"s{number - (STUDENTS - COPIES):03}" if number >= STUDENTS - COPIES else None


def submit_at_once(
    base: str, classroom: Classroom, bodies: dict[str, bytes], verify: str | bool = True
) -> dict[str, int]:
    """Every student's report from a thread of its own, released together; a copy is sent
    once the report it copies was answered (so which one is the copy is known)."""
    answered = {student: threading.Event() for student in bodies}
    statuses: dict[str, int] = {}
    start = threading.Barrier(len(bodies))

    def send(student: str) -> None:
        start.wait()
        original = copied_from(student)
        if original is not None:
            answered[original].wait(120)
        try:
            response = requests.post(
                f"{base}/api/v1/submissions", data=bodies[student], timeout=120, verify=verify,
                headers={**XML, **classroom.bearer(student)},
            )  # fmt: skip
            statuses[student] = response.status_code
        finally:
            answered[student].set()

    threads = [threading.Thread(target=send, args=(s,)) for s in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return statuses


def canvas_export(base: str, verify: str | bool = True) -> bytes:
    response = requests.get(
        f"{base}/gradebook/docker-101/export.csv?format=canvas",
        headers=basic("prof", "correct horse battery"),
        timeout=60,
        verify=verify,
    )
    assert response.status_code == 200, response.text[:300]
    return response.content


def stored(url: str, course: str) -> tuple[dict[str, list[str]], dict[str, list[str | None]]]:
    """Roster id → its reports' ids; roster id → the students its open shared-evidence flags
    name."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            course_id = connection.scalar(select(Course.id).where(Course.slug == course))
            names = dict(
                connection.execute(
                    select(Student.id, Student.student_id).where(Student.course_id == course_id)
                ).all()
            )
            reports: dict[str, list[str]] = {}
            for pk, report_id in connection.execute(
                select(Submission.student_pk, Submission.report_id).where(
                    Submission.course_id == course_id
                )
            ):
                reports.setdefault(names[pk], []).append(report_id)
            flags: dict[str, list[str | None]] = {}
            for pk, other in connection.execute(
                select(Flag.student_pk, Flag.other_student_pk).where(
                    Flag.course_id == course_id, Flag.kind == "shared_evidence"
                )
            ):
                flags.setdefault(names[pk], []).append(names.get(other))
    finally:
        engine.dispose()
    return reports, flags


def test_400_students_at_once_through_nginx_are_each_stored_once_and_copies_flagged(
    cluster: Cluster, tmp_path: Path
) -> None:
    bodies = burst_bodies()
    started = time.monotonic()
    statuses = submit_at_once(cluster.front.url, cluster.classroom, bodies, cluster.front.cert)
    seconds = time.monotonic() - started
    print(f"\n{STUDENTS} reports through nginx to two nodes: {seconds:.2f} s")
    assert statuses == dict.fromkeys(bodies, 201)
    served = [posts_served(node) for node in (cluster.node_a, cluster.node_b)]
    assert sum(served) == STUDENTS and min(served) > 0, served  # both nodes took reports

    reports, flags = stored(cluster.url, "docker-101")
    assert {student: len(ids) for student, ids in reports.items()} == dict.fromkeys(bodies, 1)
    assert len({report_id for ids in reports.values() for report_id in ids}) == STUDENTS
    expected = {s: [copied_from(s)] for s in bodies if copied_from(s) is not None}
    assert flags == expected  # each copy names the one it copied; nobody else is flagged

    # The same reports, the same way, through a single node of a database of its own.
    reference_url = cluster.pg.create_database(f"single_{uuid.uuid4().hex[:8]}")
    reference, _ = enrol_all(reference_url)
    with nodes(tmp_path, reference_url, count=1, **LIMITS) as (single,):
        started = time.monotonic()
        assert submit_at_once(single.url, reference, bodies) == dict.fromkeys(bodies, 201)
        print(f"the same through one node: {time.monotonic() - started:.2f} s")
        alone = canvas_export(single.url)
    assert canvas_export(cluster.front.url, cluster.front.cert) == alone
    rows = list(csv.reader(io.StringIO(alone.decode("utf-8-sig"))))
    assert len(rows) == 2 + STUDENTS + PASSBACK + 1  # header, points possible, everyone
    graded = [row for row in rows[2:] if row[-1]]
    assert len(graded) == STUDENTS - COPIES  # a copy's grade is held back


def test_copies_at_the_same_instant_on_two_nodes_flag_exactly_one_of_each_pair(
    cluster: Cluster,
) -> None:
    """Pair n: students x(2n) and x(2n+1) send the same lab's reports at one moment, the
    first to node A, the second to node B, bypassing nginx."""
    races = cluster.races
    jobs: list[tuple[str, str, bytes]] = []
    for n in range(RACES):
        real = make_report()
        jobs.append((cluster.node_a.url, f"x{2 * n:03}", report_xml(real)))
        copy = replace(real, report_id=uuid.uuid4().hex)
        jobs.append((cluster.node_b.url, f"x{2 * n + 1:03}", report_xml(copy)))
    start = threading.Barrier(len(jobs))

    def send(job: tuple[str, str, bytes]) -> int:
        base, student, body = job
        start.wait()
        headers = {**XML, **races.bearer(student)}
        return requests.post(
            f"{base}/api/v1/submissions", data=body, headers=headers, timeout=120
        ).status_code

    with ThreadPoolExecutor(len(jobs)) as pool:
        assert list(pool.map(send, jobs)) == [201] * len(jobs)
    reports, flags = stored(cluster.url, "docker-202")
    assert len(reports) == 2 * RACES and all(len(ids) == 1 for ids in reports.values())
    for n in range(RACES):
        first, second = f"x{2 * n:03}", f"x{2 * n + 1:03}"
        pair = {who: flags.get(who, []) for who in (first, second)}
        assert pair in ({first: [], second: [first]}, {first: [second], second: []}), pair


def test_a_session_from_node_a_is_good_on_node_b(cluster: Cluster) -> None:
    """One shared GRADER_SECRET_KEY: the CSRF token of A's form is taken by B, and B's session
    cookie opens the gradebook on A."""
    browser = requests.Session()
    page = browser.get(f"{cluster.node_a.url}/login", timeout=10)
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(
        f"{cluster.node_b.url}/login",
        data={"username": "prof", "password": "correct horse battery", "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    for node in (cluster.node_a, cluster.node_b):
        gradebook = browser.get(f"{node.url}/gradebook/", allow_redirects=False, timeout=10)
        assert gradebook.status_code == 200, (node.url, gradebook.status_code)
    assert log_in(requests.Session(), cluster.node_a.url, "prof", "wrong").status_code == 401
    forget_counts(cluster.url, "login-")


def forget_counts(url: str, prefix: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(delete(RateLimitWindow).where(RateLimitWindow.key.startswith(prefix)))
    engine.dispose()


def test_a_student_over_the_rate_limit_on_node_a_is_refused_by_node_b(cluster: Cluster) -> None:
    headers = {**XML, **cluster.classroom.bearer("rate")}
    within_one_window(3600)
    for _ in range(5):
        bad = requests.post(f"{cluster.node_a.url}/api/v1/submissions", data=b"<not xml",
                            headers=headers, timeout=10)  # fmt: skip
        assert bad.status_code == 400, bad.text
    refused = requests.post(
        f"{cluster.node_b.url}/api/v1/submissions", data=report_xml(), headers=headers, timeout=10
    )
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"


def test_a_login_throttled_through_node_a_is_throttled_on_node_b(cluster: Cluster) -> None:
    """Three wrong passwords on A: on B the right one is refused too (429), until the window
    ends; the count is the database's, not a node's."""
    within_one_window(300)
    wrong = basic("prof", "wrong password")
    right = basic("prof", "correct horse battery")
    try:
        for _ in range(3):
            answer = requests.get(f"{cluster.node_a.url}/api/v1/submissions/1", headers=wrong,
                                  timeout=10)  # fmt: skip
            assert answer.status_code == 401, answer.text
        on_b = requests.get(f"{cluster.node_b.url}/api/v1/submissions/1", headers=right, timeout=10)
        assert on_b.status_code == 429 and on_b.json()["error"] == "too_many_attempts"
    finally:
        forget_counts(cluster.url, "login-")
    again = requests.get(f"{cluster.node_b.url}/api/v1/submissions/1", headers=right, timeout=10)
    assert again.status_code == 200


# --- LTI --------------------------------------------------------------------------------------


def browser(nginx: Front) -> requests.Session:
    """A browser that trusts nginx's certificate (and no CA bundle of the environment's,
    which requests would take over the session's own)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = nginx.cert
    return session


@pytest.fixture(scope="module")
def lms(cluster: Cluster) -> Iterator[Lti]:
    """The platform simulator with the tool registered at nginx's URL, and its browser."""
    sim = Simulator(cluster.front.url).start()
    app = create_app(app_config(cluster.url))
    lti = Lti(app, cluster.front.url, sim, cluster.classroom, browser(cluster.front))
    for args in (
        ["lti", "key", "generate"],
        sim.platform_add_args(),
        ["lti", "deployment", "add", "sim", DEPLOYMENT_ID, "--course", "docker-101"],
    ):
        result = lti.cli(*args)
        assert result.exit_code == 0, result.output
    try:
        # The platform checks the tool's client assertions against its JWKS, at nginx's URL.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REQUESTS_CA_BUNDLE", cluster.front.cert)
            yield lti
    finally:
        sim.stop()
        app.extensions["grader_db"].dispose()


def test_launches_succeed_whichever_node_takes_each_step(cluster: Cluster, lms: Lti) -> None:
    """Login on one node, launch on the other (nginx alternates): nonce and state are the
    database's."""
    lms.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    for n in range(6):
        lms.browser = browser(cluster.front)  # a new browser each time
        page = lms.launch("lms-prof")
        assert page.status_code == 200, (n, page.text[:500])


def test_a_passback_burst_on_two_nodes_sends_each_score_once(cluster: Cluster, lms: Lti) -> None:
    """Each learner's one report through nginx; four worker processes on two nodes claim
    and send: the platform receives one score per learner, never a second."""
    sim = lms.sim
    sim.members = [
        User(f"lms-{p}", p.title(), f"{p}@lms.example.edu", [ROLE_LEARNER], sourcedid=p)
        for p in passback_ids()
    ]
    result = lms.cli("lti", "roster-sync", "docker-101")
    assert result.exit_code == 0, result.output
    bodies = {p: report_xml() for p in passback_ids()}
    with ThreadPoolExecutor(PASSBACK) as pool:
        statuses = pool.map(
            lambda p: requests.post(
                f"{cluster.front.url}/api/v1/submissions", data=bodies[p], timeout=60,
                headers={**XML, **cluster.classroom.bearer(p)}, verify=cluster.front.cert,
            ).status_code,
            passback_ids(),
        )  # fmt: skip
        assert list(statuses) == [201] * PASSBACK
    started = time.monotonic()
    deadline = started + 90
    while time.monotonic() < deadline and len(sim.scores) < PASSBACK:
        time.sleep(0.2)
    seconds = time.monotonic() - started
    time.sleep(3)  # every worker's outbox has had more rounds: still one score each
    print(f"\n{PASSBACK} scores sent by two nodes' outboxes in {seconds:.1f} s")
    sent = sorted(score.body["userId"] for score in sim.received)
    assert sent == sorted(f"lms-{p}" for p in passback_ids())
    assert {score.body["scoreGiven"] for score in sim.scores} == {28}


# --- A node killed mid-burst (last: node B stays dead) ----------------------------------------

KILLED_BURST = 200


def kill_node(node: Gunicorn) -> None:
    """``kill -9`` the node's master and every worker at once: a machine lost."""
    assert node.process is not None
    for pid in [*node.workers(), node.process.pid]:
        os.kill(pid, signal.SIGKILL)
    node.process.wait(timeout=10)


def test_a_node_killed_mid_burst_loses_nothing_and_stores_nothing_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    """200 students ``grade --submit`` through nginx at once (the real client and its
    outbox); when a fifth have been answered, node B is killed with every report it holds.
    Each student then submits again: what waited goes first. Every report is stored exactly
    once, and no outbox keeps anything."""
    students = [f"k{n:03}" for n in range(KILLED_BURST)]
    course = enrol(cluster.url, students, "docker-303", admin=False)
    labs = {student: Lab() for student in students}
    answered: list[str] = []
    killed = threading.Event()
    lock = threading.Lock()
    start = threading.Barrier(KILLED_BURST + 1)

    def submit(student: str) -> SubmitOutcome:
        report = make_report(host=labs[student])
        with requests.Session() as session:
            session.trust_env = False
            session.verify = cluster.front.cert
            outcome = submit_report(
                report_xml(report), report.report_id, url=cluster.front.url, timeout=60,
                token=course.tokens[student], outbox=tmp_path / student, session=session,
            )  # fmt: skip
        with lock:
            answered.append(student)
            if len(answered) == KILLED_BURST // 5 and not killed.is_set():
                killed.set()
                kill_node(cluster.node_b)
        return outcome

    def first_then_again(student: str) -> tuple[SubmitOutcome, SubmitOutcome]:
        start.wait()
        first = submit(student)
        killed.wait(120)
        return first, submit(student)

    with ThreadPoolExecutor(KILLED_BURST + 1) as pool:
        runs = pool.map(first_then_again, students)
        start.wait()
        outcomes = dict(zip(students, runs, strict=True))
    assert killed.is_set() and cluster.node_b.process is not None
    assert cluster.node_b.process.poll() is not None  # node B is gone
    waited = [s for s, (first, _) in outcomes.items() if first.state != "submitted"]
    print(f"\nnode B killed after {KILLED_BURST // 5} answers: {len(waited)} reports waited")
    assert waited, "the kill came after every report was answered: it proved nothing"
    assert all(again.state == "submitted" and again.waiting == 0 for _, again in outcomes.values())
    reports, _ = stored(cluster.url, "docker-303")
    assert {student: len(ids) for student, ids in reports.items()} == dict.fromkeys(students, 2)
    assert all(len(set(ids)) == 2 for ids in reports.values())
    assert [s for s in students if list((tmp_path / s).glob("*.xml"))] == []  # none waits


def test_two_nodes_upgrading_a_new_database_at_once_both_succeed(
    pg_server: Postgres, tmp_path: Path
) -> None:
    """Every node's unit runs ``grade-server db upgrade`` before its workers: two nodes started
    together migrate one empty database at the same moment."""
    url = pg_server.create_database(f"upgrade_{uuid.uuid4().hex[:8]}")
    script = Path(sys.executable).with_name("grade-server")
    env = {**os.environ, "GRADER_DATABASE_URL": url, "GRADER_SECRET_KEY": "k"}

    def upgrade_from(node: str) -> subprocess.Popen[str]:
        instance = {"GRADER_INSTANCE_PATH": str(tmp_path / node)}
        return subprocess.Popen(
            [str(script), "db", "upgrade"], env={**env, **instance},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    runs = [upgrade_from(node) for node in ("a", "b")]
    said = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], said
    engine = make_engine(url)
    try:
        assert is_migrated(engine)
    finally:
        engine.dispose()
