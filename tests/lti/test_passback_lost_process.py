"""A process lost between the LMS taking a score and the outbox recording it (issue 23: an
app node killed with ``kill -9`` mid-burst): once the claim's lease runs out, another process
sends the same score with the same timestamp, which the LMS answers 409 (not newer than the
one it holds): one score in the LMS, never a second submission."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from devlab.server.reports import report_xml
from webhook.database import get_db
from webhook.lti import passback
from webhook.lti.models import LtiPassback
from webhook.storage.models import utcnow

from .conftest import Lti

ALL = 28


class Killed(BaseException):
    """The process dies here (nothing after it runs, no handler catches it)."""


def test_a_score_sent_by_a_process_lost_before_recording_it_is_not_sent_twice(
    lti: Lti, monkeypatch: pytest.MonkeyPatch
) -> None:
    lti.sim.add_user("lms-ann", sourcedid="ann")
    assert lti.launch("lms-ann").status_code == 200
    assert lti.submit("ann", report_xml()).status_code == 201
    record = passback._record

    def lost_after_the_answer(*args: Any, **values: Any) -> None:
        if values.get("status") == "sent":
            raise Killed  # the LMS answered 204; the outbox never hears of it
        record(*args, **values)

    monkeypatch.setattr(passback, "_record", lost_after_the_answer)
    with pytest.raises(Killed):
        lti.send_grades()
    monkeypatch.setattr(passback, "_record", record)
    assert len(lti.sim.scores) == 1  # the LMS has the score
    assert lti.send_grades() == []  # the lost process's claim holds until its lease ends
    with lti.app.app_context(), get_db().engine.begin() as connection:
        connection.execute(update(LtiPassback).values(claimed_until=utcnow(), next_try_at=utcnow()))
    assert [o.sent for o in lti.send_grades()] == [ALL]
    first, again = lti.sim.received
    assert again.body == first.body  # the same score, the same timestamp: answered 409
    assert len(lti.sim.scores) == 1  # one submission in the LMS, not two
    assert lti.send_grades() == []
