"""Who a launch is: the LMS user bound to a roster student or to an instructor.

A student is matched on first launch by the roster id the LMS gives
(``lis.person_sourcedid``, Canvas's SIS id), else by email where the platform is registered
as trusted for emails (``--trust-email``), else enrolled; a roster student already bound to
another LMS user is never matched again. The binding
(:class:`~webhook.lti.models.LtiMember`) is kept, so later launches and the grade
passback find them by the LMS's own user id (``sub``). A student the LMS enrolled gets
a token derived from the server's secret key (:func:`launch_token`): only its hash is
stored, and the launch page can show it again on every launch.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.auth import hash_password
from webhook.lti.models import LtiContext, LtiMember, LtiPassback
from webhook.lti.roles import CourseRole, course_role
from webhook.storage.models import CourseInstructor, Instructor, Student
from webhook.storage.tokens import TOKEN_PREFIX, hash_token

LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"
ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"


@dataclass(frozen=True)
class Person:
    """What the platform says about a user (a launch's claims, or an NRPS member)."""

    sub: str
    name: str = ""
    email: str = ""
    sourcedid: str = ""
    roles: tuple[str, ...] = ()

    @property
    def course_role(self) -> CourseRole:
        """What they are in the course, by their context roles only (:mod:`.roles`)."""
        return course_role(self.roles)

    @classmethod
    def from_launch(cls, claims: Mapping[str, Any]) -> Person:
        lis = claims.get(LIS) or {}
        return cls(
            sub=str(claims.get("sub") or ""),
            name=str(claims.get("name") or ""),
            email=str(claims.get("email") or ""),
            sourcedid=str(lis.get("person_sourcedid") or "") if isinstance(lis, dict) else "",
            roles=tuple(str(role) for role in claims.get(ROLES) or ()),
        )

    @classmethod
    def from_member(cls, member: Mapping[str, Any]) -> Person:
        return cls(
            sub=str(member.get("user_id") or ""),
            name=str(member.get("name") or ""),
            email=str(member.get("email") or ""),
            sourcedid=str(member.get("lis_person_sourcedid") or ""),
            roles=tuple(str(role) for role in member.get("roles") or ()),
        )


def launch_token(secret: str, student: Student, sub: str) -> str:
    """The token of a student the LMS enrolled: the same on every launch, never stored."""
    mac = hmac.new(
        secret.encode("utf-8"),
        f"lti-student:{student.course_id}:{student.student_id}:{sub}".encode(),
        hashlib.sha256,
    ).digest()
    return TOKEN_PREFIX + urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def _member(session: Session, context: LtiContext, person: Person) -> LtiMember | None:
    """The context's member row of ``person``, if they launched or were synced before."""
    return session.scalar(
        select(LtiMember).where(LtiMember.context_pk == context.id, LtiMember.sub == person.sub)
    )


def bind_student(session: Session, context: LtiContext, person: Person, secret: str) -> Student:
    """The roster student of ``person`` in the context's course: bound, matched or enrolled.

    A student the LMS enrols here gets :func:`launch_token`'s token. Every bound student
    gets an outbox row (:class:`LtiPassback`), marked so that their current grade is sent.
    """
    member = _member(session, context, person)
    student = None
    if member is not None and member.student_pk is not None:
        student = session.get(Student, member.student_pk)
    if student is None:
        student = _match(session, context, person)
    if student is None:
        student = Student(
            course_id=context.course_id,
            student_id=_free_id(session, context.course_id, person),
            name=person.name,
            email=person.email,
            token_hash=hash_token(secrets.token_urlsafe(32)),  # unique until the real one
        )
        session.add(student)
        session.flush()
        student.token_hash = hash_token(launch_token(secret, student, person.sub))
    if member is None:
        member = LtiMember(context_pk=context.id, sub=person.sub)
        session.add(member)
    member.student_pk = student.id
    session.flush()
    if session.get(LtiPassback, student.id) is None:
        session.add(LtiPassback(student_pk=student.id, member_pk=member.id, dirty=True))
    return student


def bind_instructor(
    session: Session, context: LtiContext, person: Person, label: str
) -> Instructor:
    """The instructor of ``person``: made on first launch (no password: LMS only), and
    made an instructor of the context's course."""
    member = _member(session, context, person)
    instructor = None
    if member is not None and member.instructor_id is not None:
        instructor = session.get(Instructor, member.instructor_id)
    if instructor is None:
        username = f"lti:{label}:{person.email or person.sub}"[:100]
        instructor = session.scalar(select(Instructor).where(Instructor.username == username))
        if instructor is None:
            instructor = Instructor(
                username=username, password_hash=hash_password(secrets.token_urlsafe(32))
            )
            session.add(instructor)
            session.flush()
    if member is None:
        member = LtiMember(context_pk=context.id, sub=person.sub)
        session.add(member)
    member.instructor_id = instructor.id
    teaches = session.get(CourseInstructor, (context.course_id, instructor.id))
    if teaches is None:
        session.add(CourseInstructor(course_id=context.course_id, instructor_id=instructor.id))
    session.flush()
    return instructor


def _match(session: Session, context: LtiContext, person: Person) -> Student | None:
    """The roster student a first launch names: by SIS id; by email only on a platform
    trusted for emails (anyone may set an email in many LMSs); never a student already
    bound to another LMS user."""
    keys = [(Student.student_id, person.sourcedid)]
    if context.deployment.registration.trust_email:
        keys.append((Student.email, person.email))
    for column, value in keys:
        if not value:
            continue
        found = session.scalar(
            select(Student).where(Student.course_id == context.course_id, column == value)
        )
        if found is not None and not _bound_to_another(session, found, person):
            return found
    return None


def _bound_to_another(session: Session, student: Student, person: Person) -> bool:
    return (
        session.scalar(
            select(LtiMember.id).where(
                LtiMember.student_pk == student.id, LtiMember.sub != person.sub
            )
        )
        is not None
    )


def _free_id(session: Session, course_id: int, person: Person) -> str:
    """A roster id for a new student: the LMS's roster id, the email's name, else its ``sub``."""
    base = person.sourcedid or person.email.partition("@")[0] or f"lti-{person.sub}"
    base = base[:90]
    candidate, n = base, 1
    while session.scalar(
        select(Student.id).where(Student.course_id == course_id, Student.student_id == candidate)
    ):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
