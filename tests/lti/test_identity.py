"""Who a learner's first launch binds to: the SIS id, or the email only on a trusted platform.

An LMS user can often set their own email (or an LMS lets two accounts share one), so an
email equal to a roster student's binds them to that student only where the platform is
registered as vouching for emails (``--trust-email``); elsewhere they get their own row,
never the victim's grade or token.
"""

from __future__ import annotations

from sqlalchemy import select

from webhook.database import get_db
from webhook.lti.models import LtiMember, LtiRegistration
from webhook.storage.models import Student

from .conftest import Lti


def bound_to(lti: Lti, sub: str) -> str:
    """The roster id the LMS user ``sub`` is bound to."""
    with lti.app.app_context():
        session = get_db().session()
        member = session.scalar(select(LtiMember).where(LtiMember.sub == sub))
        assert member is not None and member.student_pk is not None
        student = session.get(Student, member.student_pk)
        assert student is not None
        found = student.student_id
        session.close()
    return found


def ann_token_hash(lti: Lti) -> str:
    with lti.app.app_context():
        session = get_db().session()
        found = session.scalar(select(Student.token_hash).where(Student.student_id == "ann"))
        session.close()
    assert found is not None
    return found


def test_an_email_equal_to_a_roster_students_does_not_bind_on_an_untrusted_platform(
    lti: Lti,
) -> None:
    before = ann_token_hash(lti)
    lti.sim.add_user("lms-mallory", email="ann@example.edu")  # ann's roster email
    page = lti.launch("lms-mallory")
    assert page.status_code == 200
    assert bound_to(lti, "lms-mallory") != "ann"
    assert ">ann<" not in page.text and "GRADER_TOKEN=gls_" in page.text  # a token of their own
    assert ann_token_hash(lti) == before
    assert lti.submit("ann", b"").status_code != 401  # ann's own token still hers


def test_an_email_binds_on_a_platform_trusted_for_emails(lti: Lti) -> None:
    result = lti.cli("lti", "platform", "set", "sim", "--trust-email")
    assert result.exit_code == 0, result.output
    lti.sim.add_user("lms-ann", email="ann@example.edu")
    page = lti.launch("lms-ann")
    assert page.status_code == 200 and ">ann<" in page.text
    assert bound_to(lti, "lms-ann") == "ann"


def test_a_student_bound_to_one_lms_user_is_not_bound_to_another_by_email(lti: Lti) -> None:
    assert lti.cli("lti", "platform", "set", "sim", "--trust-email").exit_code == 0
    lti.sim.add_user("lms-ann", sourcedid="ann")
    assert lti.launch("lms-ann").status_code == 200
    lti.sim.add_user("lms-other", email="ann@example.edu")
    assert lti.launch("lms-other").status_code == 200
    assert bound_to(lti, "lms-ann") == "ann" and bound_to(lti, "lms-other") != "ann"


def test_the_sis_id_binds_on_any_platform(lti: Lti) -> None:
    lti.sim.add_user("lms-ann", sourcedid="ann", email="someone.else@lms.example.edu")
    assert lti.launch("lms-ann").status_code == 200
    assert bound_to(lti, "lms-ann") == "ann"


def test_trust_in_emails_is_set_per_platform_and_off_by_default(lti: Lti) -> None:
    args = lti.sim.platform_add_args("other")
    args[args.index("--client-id") + 1] = "another-client"
    assert lti.cli(*args, "--trust-email").exit_code == 0
    assert lti.cli("lti", "platform", "set", "nope", "--trust-email").exit_code == 3
    with lti.app.app_context():
        session = get_db().session()
        rows = session.execute(select(LtiRegistration.name, LtiRegistration.trust_email))
        trust = {name: trusted for name, trusted in rows}
        session.close()
    assert trust == {"sim": False, "other": True}
    listed = lti.cli("lti", "platform", "list").output
    assert "other\t" in listed and "trusts emails" in listed.split("other\t")[1].splitlines()[0]
    assert lti.cli("lti", "platform", "set", "other", "--no-trust-email").exit_code == 0
