"""The roster from the LMS: Names and Role Provisioning Services (NRPS).

Every page of the context's memberships is read (pylti1p3 follows ``Link: rel="next"``)
and every active learner (a member whose context roles make them one, by the launch's
rule in :mod:`webhook.lti.roles`) is bound or enrolled as a launch would
(:func:`bind_student`), so enrolment needs no CSV. Instructors are left to their own
launches; mentors and members with no context role are not enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webhook.lti.models import LtiContext
from webhook.lti.people import Person, bind_student
from webhook.lti.roles import CourseRole
from webhook.lti.services import CachedTokenConnector
from webhook.lti.toolconf import DatabaseToolConf
from webhook.storage.models import Course, Student


@dataclass(frozen=True)
class Synced:
    contexts: int
    members: int  # learners seen
    enrolled: int  # of them, new on the roster


def sync_course(session: Session, course: Course, secret: str) -> Synced:
    """Fetch every context of ``course`` that has an NRPS endpoint; commit the roster."""
    contexts = session.scalars(
        select(LtiContext).where(
            LtiContext.course_id == course.id, LtiContext.memberships_url != ""
        )
    ).all()
    members = enrolled = 0
    for context in contexts:
        conf = DatabaseToolConf(session)
        registration = conf.registration(context.deployment.registration)
        nrps = NamesRolesProvisioningService(
            CachedTokenConnector(registration),
            {"context_memberships_url": context.memberships_url},
        )
        for member in nrps.get_members():
            person = Person.from_member(member)
            if (
                not person.sub
                or person.course_role is not CourseRole.LEARNER
                or member.get("status", "Active") != "Active"
            ):
                continue
            members += 1
            before = _roster_size(session, course)
            bind_student(session, context, person, secret)
            enrolled += _roster_size(session, course) - before
        session.commit()
    return Synced(len(contexts), members, enrolled)


def _roster_size(session: Session, course: Course) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Student).where(Student.course_id == course.id)
        )
        or 0
    )
