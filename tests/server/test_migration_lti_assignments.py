"""Migration 0013 (issue 19, LTI): line items and sent grades move to the assignment.

A database of release 0011 with an LTI course (its lab's remembered column, a student's
grade sent and another's failing) and a column of a lab the course has no assignment of:
after the upgrade, the column is the assignment's, each outbox row's sent grade is the
course's first assignment's (so nothing is sent again), and the foreign column is gone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from webhook.storage.db import alembic_config, make_engine, upgrade

from .test_migrations import HEAD, back_to

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 2, 9, 0, 0, 123456, tzinfo=UTC)

ROWS = (
    "INSERT INTO course (id, slug, name, created_at, grade_policy) VALUES (1, 'c', 'C', :t,"
    " 'self')",
    "INSERT INTO assignment (id, course_id, slug, lab, title, created_at, grade_policy)"
    " VALUES (7, 1, 'docker_beginners', 'docker_beginners', 'C lab', :t, 'self')",
    "INSERT INTO student (id, course_id, student_id, name, email, token_hash, created_at,"
    " identifiers) VALUES (1, 1, 'ann', '', '', 'h1', :t, 0), (2, 1, 'bob', '', '', 'h2', :t, 0),"
    " (3, 1, 'cy', '', '', 'h3', :t, 0)",
    "INSERT INTO lti_registration (id, name, issuer, client_id, auth_login_url, auth_token_url,"
    " key_set_url, auth_audience, trust_email, frame_origins, created_at)"
    " VALUES (1, 'sim', 'https://lms', '1', 'a', 'b', 'c', '', false, '', :t)",
    "INSERT INTO lti_deployment (id, registration_id, deployment_id, course_id)"
    " VALUES (1, 1, 'd', 1)",
    "INSERT INTO lti_context (id, deployment_pk, context_id, course_id, title, lineitems_url,"
    " ags_scopes, memberships_url, updated_at) VALUES (1, 1, 'ctx', 1, '', 'u', '', '', :t)",
    "INSERT INTO lti_member (id, context_pk, sub) VALUES (1, 1, 'lms-ann'), (2, 1, 'lms-bob'),"
    " (3, 1, 'lms-cy')",
    "INSERT INTO lti_line_item (id, context_pk, lab, url) VALUES"
    " (1, 1, 'docker_beginners', 'https://lms/li/1'), (2, 1, 'other_lab', 'https://lms/li/2')",
    "INSERT INTO lti_passback (student_pk, member_pk, dirty, status, sent_grade, pending_grade,"
    " attempts, next_try_at, claim, last_error, last_timestamp, sent_at) VALUES"
    " (1, 1, false, 'sent', 28, 28, 0, :t, '', '', :t1, :t),"
    " (2, 2, false, 'error', NULL, 20, 3, :t, '', 'the LMS answered 500', :t1, NULL),"
    " (3, 3, true, 'waiting', NULL, NULL, 0, :t, '', '', NULL, NULL)",
)


def test_an_lti_course_of_0011_keeps_its_column_and_what_was_sent(database_url: str) -> None:
    back_to(database_url, "0012")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in ROWS:
                connection.execute(text(statement), {"t": T0, "t1": T1})
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
            items = connection.execute(
                text("SELECT context_pk, assignment_id, lab, url FROM lti_line_item")
            ).all()
            assert [tuple(row) for row in items] == [(1, 7, "docker_beginners", "https://lms/li/1")]
            scores = connection.execute(
                text(
                    "SELECT student_pk, assignment_id, status, sent_grade, pending_grade,"
                    " last_error, last_timestamp FROM lti_score ORDER BY student_pk"
                )
            ).all()
            assert [tuple(row)[:6] for row in scores] == [
                (1, 7, "sent", 28, 28, ""),
                (2, 7, "error", None, 20, "the LMS answered 500"),
            ]
            stamp = scores[1][6]
            stamp = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
            assert stamp.replace(tzinfo=UTC) == T1  # a retry resends this very timestamp
            outbox = connection.execute(
                text("SELECT student_pk, dirty, status, attempts FROM lti_passback"
                     " ORDER BY student_pk")
            ).all()  # fmt: skip
            assert [tuple(row) for row in outbox] == [
                (1, False, "sent", 0),
                (2, False, "error", 3),
                (3, True, "waiting", 0),
            ]
    finally:
        engine.dispose()


def test_0013_refuses_to_go_down_and_says_which_revision(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    with pytest.raises(RuntimeError, match="revision 0013"):
        command.downgrade(alembic_config(sqlite_url), "0012")
