"""The same launch and passback on PostgreSQL (the shared cache, the claims, the outbox)."""

from __future__ import annotations

from devlab.server.reports import report_xml

from .conftest import Lti


def test_launch_replay_and_passback_on_postgresql(lti_pg: Lti) -> None:
    lti = lti_pg
    lti.sim.add_user("lms-ann", sourcedid="ann")
    form = lti.platform_form("lms-ann")
    assert lti.post_form(form).status_code == 200
    replayed = lti.post_form(form)
    assert replayed.status_code == 403 and replayed.headers["X-LTI-Refused"] == "replayed"
    assert lti.submit("ann", report_xml(failing=("mydb.running",))).status_code == 201
    lti.sim.fail_scores("500")
    [failed] = lti.send_grades()
    assert failed.error.startswith("the LMS answered 500")
    lti.due_now()
    assert [o.sent for o in lti.send_grades()] == [26]
    assert lti.submit("ann", report_xml()).status_code == 201
    assert [o.sent for o in lti.send_grades()] == [28]
    assert [s.body["scoreGiven"] for s in lti.sim.scores] == [26, 28]
    assert len(lti.sim.line_items) == 1
