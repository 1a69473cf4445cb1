"""webhook.grade_events' batch form: a listener with one is told of many students (an
assignment's change, a rescore) in one call, any other once per student, in the order
registered; nobody told of no one. The stored grades' refresh around it has its own tests
(tests/server/test_stored_grades.py)."""

from __future__ import annotations

from typing import Any, cast

from flask import Flask
from sqlalchemy import Connection

from webhook import grade_events

CONNECTION = cast(Connection, object())  # the listeners below only pass it along


def test_a_batch_listener_is_told_once_and_another_once_per_student() -> None:
    app = Flask(__name__)
    told: list[tuple[str, Any]] = []
    one = lambda _c, pk: told.append(("one", pk))  # noqa: E731
    with_batch = lambda _c, pk: told.append(("single", pk))  # noqa: E731
    grade_events.add_listener(app, one)
    grade_events.add_listener(
        app, with_batch, batch=lambda _c, pks: told.append(("batch", sorted(pks)))
    )
    grade_events.add_listener(app, with_batch)  # registered twice: still once
    with app.app_context():
        grade_events._tell(CONNECTION, [3, 1])
        assert told == [("one", 3), ("one", 1), ("batch", [1, 3])]
        told.clear()
        grade_events._tell(CONNECTION, [])
        assert told == []
        grade_events._tell(CONNECTION, [7])  # one student (ingest's): the single form
        assert told == [("one", 7), ("single", 7)]
