"""Deep linking: the instructor picks an installed lab, and the link made is an assignment.

The page offers every installed lab (:func:`webhook.labs.installed_labs`, with its title
and points). For a lab the course already has assignments of, each of them can be linked
(reused), or a new one made; for another lab, linking makes its first assignment. A new
assignment's slug is the lab's name, or, when that is taken (the same lab linked a second
time as a new assignment), the next free ``<lab>-2``, ``<lab>-3``...; its rubric is the
lab's shipped one, its dates and grade policy the course's.

The link carries the assignment's slug as a custom parameter, which the platform sends back
in every launch from that link (``https://purl.imsglobal.org/spec/lti/claim/custom``): a
student's launch lands on that assignment. Its line item (:func:`webhook.lti.lineitems.wanted`)
is created by the platform and found by the passback through its tag.

The page's forms carry a token (:func:`form_token`) bound to the launch and to the browser's
LTI session cookie (``lti1p3-session-id``, which the launch's data is keyed by): a POST
naming the launch id without its page's token is refused, so another site cannot make an
instructor's browser add a lab, even knowing the launch id (a URL, seen in logs and
histories). Not Flask-WTF's token, as the gradebook's forms have: that one lives in the
session cookie, which is ``SameSite=Lax`` and so not sent from the LMS's frame the page
is shown in; the LTI session cookie is (``SameSite=None``), and the server keeps nothing
more.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pylti1p3.deep_link_resource import DeepLinkResource
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webhook.labs import LabOffer, installed_labs, lab_offer, lab_rubric
from webhook.lti import lineitems
from webhook.storage.assignments import add_assignment, newest_rubric
from webhook.storage.models import Assignment, Course

CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
#: The custom parameter naming the assignment a link launches.
ASSIGNMENT_PARAM = "assignment"
#: The form field of the page's token.
TOKEN_FIELD = "csrf_token"


def form_token(secret: str, launch_id: str, session_id: str) -> str:
    """The token of the deep linking page of ``launch_id``, shown in the browser whose LTI
    session cookie is ``session_id``: a MAC under the server's secret key, never stored."""
    message = f"lti-deep-link:{launch_id}:{session_id}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def token_matches(secret: str, launch_id: str, session_id: str, sent: str) -> bool:
    """Whether ``sent`` is that page's token (compared in constant time)."""
    expected = form_token(secret, launch_id, session_id)
    return hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))


@dataclass(frozen=True)
class Choice:
    """One installed lab on the deep linking page, with the course's assignments of it."""

    lab: LabOffer
    assignments: list[Assignment]


def choices(session: Session, course: Course) -> list[Choice]:
    """Every installed lab, with the course's assignments of it (oldest first)."""
    mine = session.scalars(
        select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id)
    ).all()
    return [Choice(lab_offer(lab), [a for a in mine if a.lab == lab]) for lab in installed_labs()]


class BadChoice(ValueError):
    """What the instructor's form named is not a lab or an assignment of it here."""


def linked(session: Session, course: Course, lab: str, slug: str | None, *, who: str) -> Assignment:
    """The assignment a link of ``lab`` is for: the course's ``slug`` (an assignment of that
    lab), or without one a new assignment of the lab (see the module's docstring). Flushed."""
    if lab not in installed_labs():
        raise BadChoice(f"no lab {lab[:100]!r} is installed")
    if slug:
        found = session.scalar(
            select(Assignment).where(
                Assignment.course_id == course.id, Assignment.slug == slug, Assignment.lab == lab
            )
        )
        if found is None:
            raise BadChoice(f"course {course.slug} has no assignment {slug[:64]!r} of lab {lab}")
        return found
    offer = lab_offer(lab)
    slug = free_slug(session, course, lab)
    count = session.scalar(
        select(func.count()).where(Assignment.course_id == course.id, Assignment.lab == lab)
    )
    title = offer.title if not count else f"{offer.title} ({count + 1})"
    return add_assignment(
        session, course, lab_rubric(lab), slug=slug, title=title, created_by=who[:100]
    )


def free_slug(session: Session, course: Course, lab: str) -> str:
    """``lab``, else the first of ``lab-2``, ``lab-3``... the course does not use."""
    taken = set(session.scalars(select(Assignment.slug).where(Assignment.course_id == course.id)))
    base = lab[:60]
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def resource(session: Session, assignment: Assignment, launch_url: str) -> DeepLinkResource:
    """The link the platform adds: the tool's launch URL, the assignment named in its custom
    parameters, and its line item (title, points, tag)."""
    max_score = newest_rubric(session, assignment.id).max_score
    return (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(assignment.title or assignment.slug)
        .set_custom_params({ASSIGNMENT_PARAM: assignment.slug, "lab": assignment.lab})
        .set_lineitem(lineitems.wanted(assignment, max_score))
    )


def named(session: Session, course: Course, claims: Mapping[str, Any]) -> Assignment | None:
    """The course's assignment the launch's link names (its custom parameter), if any: an
    instructor's launch from it lands on that assignment's page."""
    custom = claims.get(CUSTOM)
    slug = str(custom.get(ASSIGNMENT_PARAM) or "") if isinstance(custom, Mapping) else ""
    if not slug:
        return None
    return session.scalar(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.slug == slug)
    )


def launched(session: Session, course: Course, claims: Mapping[str, Any]) -> Assignment | None:
    """The assignment a student's launch is for: the one its link names, else the course's
    first (a link made before links named assignments, or the course's navigation)."""
    first = select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id)
    return named(session, course, claims) or session.scalars(first).first()


def needs_flag(session: Session, assignment: Assignment) -> bool:
    """Whether ``grade --submit`` must say ``--assignment``: the course has more than one
    assignment of the lab (else the report's lab alone says where it goes)."""
    count = session.scalar(
        select(func.count()).where(
            Assignment.course_id == assignment.course_id, Assignment.lab == assignment.lab
        )
    )
    return (count or 0) > 1
