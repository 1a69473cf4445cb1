"""Grade passback: the course grade reaches the simulated LMS once, whatever the LMS does."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select

from devlab.server.lms import ROLE_INSTRUCTOR
from devlab.server.reports import hand_typed, report_xml
from webhook.database import get_db
from webhook.lti import services
from webhook.lti.models import LtiPassback, LtiScore
from webhook.storage.models import Flag, Student

from .conftest import Lti

CANVAS = "https://canvas.instructure.com/lti/submission"
ALL = 28


@pytest.fixture
def ann(lti: Lti) -> Lti:
    """Ann (on the roster as ``ann``) has opened the lab from the LMS once."""
    lti.sim.add_user("lms-ann", sourcedid="ann")
    assert lti.launch("lms-ann").status_code == 200
    assert [o.sent for o in lti.send_grades()] == [None]  # nothing counts yet: nothing sent
    return lti


def submit(lti: Lti, *, failing: tuple[str, ...] = ()) -> None:
    response = lti.submit("ann", report_xml(failing=failing))
    assert response.status_code == 201, response.text


def outbox(lti: Lti) -> LtiPassback:
    with lti.app.app_context():
        session = get_db().session()
        row = session.scalar(select(LtiPassback))
        session.close()
    assert row is not None
    return row


def sent(lti: Lti) -> LtiScore:
    """What the LMS has of the (one) student's grade for the (one) assignment."""
    with lti.app.app_context():
        session = get_db().session()
        score = session.scalar(select(LtiScore))
        session.close()
    assert score is not None
    return score


def test_a_raise_sends_exactly_one_score_with_every_field(ann: Lti) -> None:
    submit(ann, failing=("mydb.running",))
    assert [o.sent for o in ann.send_grades()] == [ALL - 2]
    submit(ann)
    assert [o.sent for o in ann.send_grades()] == [ALL]
    assert ann.send_grades() == []  # nothing left to do
    first, raised = ann.sim.scores
    assert raised.body == {
        "scoreGiven": ALL,
        "scoreMaximum": ALL,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "userId": "lms-ann",
        "timestamp": raised.body["timestamp"],
        CANVAS: {"new_submission": False},
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", raised.body["timestamp"])
    assert datetime.fromisoformat(raised.body["timestamp"]) > datetime.fromisoformat(
        first.body["timestamp"]
    )
    assert len(ann.sim.line_items) == 1  # the lab's column, created once
    assert ann.sim.line_items[0]["scoreMaximum"] == ALL
    assert ann.sim.token_requests == 1  # the access token is kept until it expires
    assert outbox(ann).status == "sent" and sent(ann).sent_grade == ALL


def test_a_lower_report_sends_nothing_under_the_best_policy(ann: Lti) -> None:
    submit(ann)
    ann.send_grades()
    submit(ann, failing=("mydb.running", "tweet.serves"))
    assert [o.sent for o in ann.send_grades()] == [None]
    assert len(ann.sim.received) == 1


def test_a_flagged_report_sends_nothing_until_the_instructor_accepts_it(ann: Lti) -> None:
    response = ann.submit("ann", hand_typed())
    assert response.status_code == 201 and response.json()["flagged"]
    assert [o.sent for o in ann.send_grades()] == [None]
    assert ann.sim.received == []
    ann.sim.add_user("lms-prof", role=ROLE_INSTRUCTOR)
    ann.launch("lms-prof")  # logged in to the gradebook through the launch
    with ann.app.app_context():
        session = get_db().session()
        student = session.scalar(select(Student).where(Student.student_id == "ann"))
        flag_ids = session.scalars(
            select(Flag.id).where(Flag.student_pk == student.id, Flag.status == "open")  # type: ignore[union-attr]
        ).all()
        session.close()
    for flag_id in flag_ids:
        page = ann.browser.get(f"{ann.base}/gradebook/docker-101/flags", timeout=10).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        decided = ann.browser.post(
            f"{ann.base}/gradebook/docker-101/flags/{flag_id}",
            data={"action": "accept", "note": "seen it run", "csrf_token": csrf[1]},
            timeout=10,
        )
        assert decided.status_code == 200
    sent = [o.sent for o in ann.send_grades()]
    assert sent == [ALL]  # the typed report claims every check: once accepted, it counts
    assert [s.body["scoreGiven"] for s in ann.sim.scores] == [ALL]


def test_the_lms_down_then_back_gets_the_score_once(ann: Lti) -> None:
    ann.sim.stop()
    submit(ann)
    [failed] = ann.send_grades()
    assert failed.sent is None and "Connection" in failed.error
    row = outbox(ann)
    assert row.status == "error" and row.attempts == 1 and "Connection" in row.last_error
    assert ann.send_grades() == []  # backing off
    ann.sim.start()
    ann.due_now()
    assert [o.sent for o in ann.send_grades()] == [ALL]
    assert ann.send_grades() == []
    assert len(ann.sim.scores) == 1 and outbox(ann).status == "sent"


@pytest.mark.parametrize("answer", ["500", "422", "409"])  # 409 to a first try: an error
def test_an_error_answer_is_retried_and_sent_once(ann: Lti, answer: str) -> None:
    ann.sim.fail_scores(answer)
    submit(ann)
    [failed] = ann.send_grades()
    assert failed.error.startswith(f"the LMS answered {answer}")
    ann.due_now()
    assert [o.sent for o in ann.send_grades()] == [ALL]
    ann.due_now()
    assert ann.send_grades() == []
    assert len(ann.sim.scores) == 1 and len(ann.sim.received) == 2
    assert not any(
        s.body["timestamp"] == ann.sim.received[0].body["timestamp"] for s in ann.sim.scores[1:]
    )


def test_a_slow_lms_is_sent_once_while_two_workers_run(ann: Lti) -> None:
    ann.sim.fail_scores("slow")
    submit(ann)
    results: list[object] = []
    workers = [threading.Thread(target=lambda: results.append(ann.send_grades())) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(ann.sim.received) == 1 and len(ann.sim.scores) == 1
    assert sorted(len(r) for r in results) == [0, 1]  # type: ignore[arg-type]


def test_an_lms_that_never_answers_is_given_up_on_and_retried(
    ann: Lti, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "REQUEST_TIMEOUT", 1.0)
    ann.sim.fail_scores("hang")
    submit(ann)
    [failed] = ann.send_grades()
    assert "Timeout" in failed.error
    ann.due_now()
    assert [o.sent for o in ann.send_grades()] == [ALL]
    assert len(ann.sim.scores) == 1  # the hung one never counted; no 409 for the retry


def test_timestamps_stay_strictly_increasing_when_the_clock_does_not_move() -> None:
    from datetime import UTC

    from webhook.lti.passback import next_timestamp

    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert next_timestamp(None, now) == now
    later = next_timestamp(now, now)
    assert later > now and (later - now).total_seconds() == 1e-6
    assert next_timestamp(now, now.replace(hour=10)) == now.replace(hour=10)


def test_an_access_token_is_requested_again_once_it_expires(ann: Lti) -> None:
    ann.sim.token_lifetime = services.TOKEN_MARGIN + 1  # usable for one second
    submit(ann, failing=("mydb.running",))
    assert [o.sent for o in ann.send_grades()] == [ALL - 2]
    assert ann.sim.token_requests == 1
    time.sleep(1.2)
    submit(ann)
    assert [o.sent for o in ann.send_grades()] == [ALL]
    assert ann.sim.token_requests == 2


def test_a_score_the_lms_took_but_answered_too_late_is_not_a_second_submission(
    ann: Lti, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LMS records the score, then its answer comes after the time limit: the retry is
    the same score with the same timestamp, which the LMS answers 409 (not newer than the
    one it holds), and that 409 means delivered."""
    monkeypatch.setattr(services, "REQUEST_TIMEOUT", 1.0)
    ann.sim.fail_scores("late")
    submit(ann)
    [failed] = ann.send_grades()
    assert "Timeout" in failed.error and len(ann.sim.scores) == 1  # the LMS has it
    ann.due_now()
    assert [o.sent for o in ann.send_grades()] == [ALL]
    first, retry = ann.sim.received
    assert retry.body == first.body  # the same score, the same timestamp
    assert len(ann.sim.scores) == 1  # one submission in the LMS, not two
    row = outbox(ann)
    assert row.status == "sent" and row.attempts == 0 and sent(ann).sent_grade == ALL
    ann.due_now()
    assert ann.send_grades() == []
