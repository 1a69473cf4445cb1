"""What each answer of the server means for a report (``grader.report.submit.decide``), fast.

The statuses are those ``webhook/api.py`` sends to a student's submit; the server's side of
each is tested in tests/server. tests/server/test_submit.py sends through gunicorn.
"""

from __future__ import annotations

import pytest

from grader.report.submit import FINAL, Decision, Reply, decide

ENDPOINT = "https://grades.example/api/v1/submissions"


def test_a_stored_report_is_delivered_with_its_score() -> None:
    for status in (200, 201):  # 200: the server had this report id already
        decision = decide(Reply(status, {"id": 7, "score": 26, "max_score": 28}), ENDPOINT)
        assert decision == Decision("delivered", "submitted", "submitted: score 26/28")


def test_a_delivery_without_a_score_still_leaves_the_outbox() -> None:
    assert decide(Reply(201), ENDPOINT) == Decision(
        "delivered", "submitted", "submitted: score None/None"
    )


@pytest.mark.parametrize("status", [400, 409, 413, 415, 422])
def test_a_refused_report_is_put_aside_with_the_servers_reason(status: int) -> None:
    said = {"error": "bad_report", "reason": "report_id is not 1-100 letters"}
    decision = decide(Reply(status, said), ENDPOINT)
    assert decision.action == "reject" and decision.state == "rejected"
    assert decision.reason == "report_id is not 1-100 letters"
    assert decision.message == (
        f"the server refused this report ({status}): report_id is not 1-100 letters"
    )


def test_the_refusals_that_are_final_are_those_of_the_report_itself() -> None:
    assert frozenset({400, 409, 413, 415, 422}) == FINAL


def test_a_refusal_without_a_reason_names_its_status() -> None:
    assert decide(Reply(413), ENDPOINT).reason == "HTTP 413"
    assert decide(Reply(415, {"reason": ""}), ENDPOINT).reason == "HTTP 415"
    assert decide(Reply(400, {"error": "bad request"}), ENDPOINT).reason == "bad request"
    assert decide(Reply(400, {"reason": "why", "error": "what"}), ENDPOINT).reason == "why"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_keeps_the_report_and_is_told_as_rejected(status: int) -> None:
    decision = decide(Reply(status, {"error": "unauthorized", "reason": "unknown token"}), ENDPOINT)
    assert (decision.action, decision.state) == ("retry", "rejected")
    assert decision.message == (
        f"the server refused the token ({status}: unknown token); check --token or GRADER_TOKEN"
    )
    assert decision.reason == ""  # nothing is put aside


def test_too_many_reports_wait_and_say_when_to_try_again() -> None:
    said = {"error": "rate_limited", "reason": "1 per 1 hour"}
    slow = decide(Reply(429, said, retry_after="3600"), ENDPOINT)
    assert (slow.action, slow.state) == ("retry", "rejected")
    assert slow.message == "the server asks to wait (429: 1 per 1 hour; retry after 3600 s)"
    unsaid = decide(Reply(429), ENDPOINT)
    assert unsaid.message == "the server asks to wait (429: HTTP 429; retry after ? s)"


@pytest.mark.parametrize("status", [404, 500, 502, 503, 504, 302])
def test_anything_else_keeps_the_report_waiting(status: int) -> None:
    decision = decide(Reply(status), ENDPOINT)
    assert decision == Decision("retry", "queued", f"the server answered {status} (HTTP {status})")


def test_a_server_error_says_what_the_server_said() -> None:
    decision = decide(Reply(503, {"error": "unavailable"}), ENDPOINT)
    assert decision.message == "the server answered 503 (unavailable)"


@pytest.mark.parametrize("error", ["ConnectionError", "ConnectTimeout", "ReadTimeout", "SSLError"])
def test_no_answer_keeps_the_report_waiting(error: str) -> None:
    assert decide(Reply(error=error), ENDPOINT) == Decision(
        "retry", "queued", f"the server at {ENDPOINT} cannot be reached ({error})"
    )


def test_the_edges_of_success() -> None:
    assert decide(Reply(299), ENDPOINT).action == "delivered"
    assert decide(Reply(300), ENDPOINT).action == "retry"
    assert decide(Reply(199), ENDPOINT).action == "retry"
