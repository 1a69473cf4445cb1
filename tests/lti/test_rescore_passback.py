"""A rescore reaches the LMS through the passback's outbox: one new score for each student
whose grade changed, none for the others; a second apply sends nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import event, select

from devlab.server.reports import report_xml
from submissions.rubric import shipped_rubric
from webhook.database import get_db
from webhook.lti import passback
from webhook.lti.models import LtiPassback
from webhook.storage.db import write_transaction
from webhook.storage.models import Student

from .conftest import Lti


def dirty(lti: Lti) -> dict[str, bool]:
    """Each LMS-bound student's outbox row: marked to be sent?"""
    with lti.app.app_context(), get_db().session() as session:
        rows = session.execute(
            select(Student.student_id, LtiPassback.dirty).join(
                Student, Student.id == LtiPassback.student_pk
            )
        ).all()
    return {student_id: flag for student_id, flag in rows}


def test_a_rescore_sends_one_new_score_per_changed_student_and_none_for_the_others(
    lti: Lti, tmp_path: Path
) -> None:
    for sub, roster_id in (("lms-ann", "ann"), ("lms-bob", "bob")):
        lti.sim.add_user(sub, sourcedid=roster_id)
        assert lti.launch(sub).status_code == 200
    assert lti.submit("ann", report_xml()).status_code == 201  # 28
    assert lti.submit("bob", report_xml(failing=("tweet.dockerfile",))).status_code == 201  # 25
    assert sorted(o.sent for o in lti.send_grades() if o.sent is not None) == [25, 28]
    assert len(lti.sim.scores) == 2

    document = shipped_rubric().to_dict()
    for entry in document["checks"]:
        if entry["id"] == "tweet.dockerfile":
            entry["points"] = 5  # ann, who passed it, goes to 30; bob, who failed it, stays
    changed = tmp_path / "rubric.json"
    changed.write_text(json.dumps(document))
    made = lti.cli("assignment", "rubric", "docker-101", "docker_beginners", str(changed))
    assert made.exit_code == 0, made.output

    preview = lti.cli("assignment", "rescore", "docker-101", "docker_beginners")
    assert preview.exit_code == 0 and "ann\t28 → 30" in preview.output
    assert dirty(lti) == {"ann": False, "bob": False}  # a preview queues nothing
    applied = lti.cli("assignment", "rescore", "docker-101", "docker_beginners", "--apply")
    assert applied.exit_code == 0, applied.output
    assert dirty(lti) == {"ann": True, "bob": False}  # only the changed grade is queued

    assert [o.sent for o in lti.send_grades()] == [30]
    assert lti.send_grades() == []
    assert len(lti.sim.scores) == 3
    newest = lti.sim.scores[-1].body
    assert (newest["userId"], newest["scoreGiven"]) == ("lms-ann", 30)

    again = lti.cli("assignment", "rescore", "docker-101", "docker_beginners", "--apply")
    assert again.exit_code == 0 and "nothing to rescore" in again.output
    assert dirty(lti) == {"ann": False, "bob": False}
    assert lti.send_grades() == []
    assert len(lti.sim.scores) == 3


def test_many_students_are_marked_in_statements_of_a_chunk_each(
    lti: Lti, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LTI's batch form (a rescore's, through grade_events.assignment_changed) marks exactly
    the students named, however many statements their number takes; one twice is marked
    once."""
    for sub, roster_id in (("lms-ann", "ann"), ("lms-bob", "bob")):
        lti.sim.add_user(sub, sourcedid=roster_id)
        assert lti.launch(sub).status_code == 200
        assert lti.submit(roster_id, report_xml()).status_code == 201
    assert sorted(o.sent for o in lti.send_grades()) == [28, 28]
    assert dirty(lti) == {"ann": False, "bob": False}
    monkeypatch.setattr(passback, "MARK_CHUNK", 1)
    statements: list[str] = []
    with lti.app.app_context():
        engine = get_db().engine
        with engine.connect() as connection:
            pks = {row.student_id: row.id for row in connection.execute(select(Student))}

        def seen(_c: object, _cur: object, statement: str, *_rest: object) -> None:
            if statement.startswith("UPDATE lti_passback"):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            with write_transaction(engine) as connection:
                passback.mark_many_changed(connection, [pks["ann"], pks["ann"]])
            assert dirty(lti) == {"ann": True, "bob": False} and len(statements) == 1
            with write_transaction(engine) as connection:
                passback.mark_many_changed(connection, [pks["bob"], pks["ann"]])
            assert dirty(lti) == {"ann": True, "bob": True} and len(statements) == 3
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # Marked, but their grades are the ones the LMS has: nothing sent again.
    assert [o.sent for o in lti.send_grades()] == [None, None]
    assert len(lti.sim.scores) == 2
