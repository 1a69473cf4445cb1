"""The LTI 1.3 tables, on the storage layer's :class:`~webhook.storage.models.Base`.

Migration ``0005`` creates them (``0006`` adds ``trust_email``). What each keeps, and
why it is in the database rather than in a process: every gunicorn worker must see the
same registrations, the same launch nonces and state (a per-process cache refuses a launch
that lands on another worker), and the same outbox (a grade is sent by exactly one of
them).

* :class:`LtiToolKey`: the tool's RSA key pairs (``grade-server lti key generate``). The
  private key never leaves the server; the JWKS endpoint serves the public half.
* :class:`LtiRegistration` / :class:`LtiDeployment`: one platform (issuer, client id and
  its URLs) and the deployments of it, each bound to one course.
* :class:`LtiContext`: an LMS course seen in a launch, with its AGS and NRPS endpoints.
* :class:`LtiMember`: an LMS user of a context, bound to a roster student or an instructor.
* :class:`LtiLineItem`: the LMS gradebook column of an assignment in a context (``0012``:
  keyed by assignment, no longer by lab; storage knows nothing of LTI, so the link lives
  here).
* :class:`LtiCacheEntry`: launch nonces and state, shared by every worker, with expiry.
* :class:`LtiPassback`: the grade passback outbox, one row per student (see
  :mod:`webhook.lti.passback`), and :class:`LtiScore` (``0012``), what was sent of each of
  their assignments.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webhook.storage.models import Base, Course, UTCDateTime, utcnow


class LtiToolKey(Base):
    """One of the tool's signing keys; the newest active one signs."""

    __tablename__ = "lti_tool_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)  # JSON, with kid, alg and use
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiRegistration(Base):
    """A platform as registered with the tool: its issuer, our client id there, its URLs."""

    __tablename__ = "lti_registration"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(500))
    auth_token_url: Mapped[str] = mapped_column(String(500))
    key_set_url: Mapped[str] = mapped_column(String(500))
    auth_audience: Mapped[str] = mapped_column(String(500), default="")
    #: Whether the platform vouches for its users' emails: only then does a learner's email
    #: bind them to a roster student (``--trust-email``; migration 0006).
    trust_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: More origins that may frame the tool's pages, space-separated (``--frame-origin``): an
    #: LMS whose course pages are on another host than its issuer (hosted Canvas).
    frame_origins: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployments: Mapped[list[LtiDeployment]] = relationship(back_populates="registration")


class LtiDeployment(Base):
    """A deployment of the tool in a platform, and the course its launches belong to."""

    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))

    registration: Mapped[LtiRegistration] = relationship(back_populates="deployments")
    course: Mapped[Course] = relationship()


class LtiContext(Base):
    """An LMS course (LTI context) seen in a launch, and where its services answer."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("deployment_pk", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("lti_deployment.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255), default="")
    lineitems_url: Mapped[str] = mapped_column(String(500), default="")
    ags_scopes: Mapped[str] = mapped_column(String(1000), default="")  # space-separated
    memberships_url: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployment: Mapped[LtiDeployment] = relationship()


class LtiMember(Base):
    """An LMS user of a context (``sub``), bound to a roster student or an instructor."""

    __tablename__ = "lti_member"
    __table_args__ = (UniqueConstraint("context_pk", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    student_pk: Mapped[int | None] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), default=None, index=True
    )
    instructor_id: Mapped[int | None] = mapped_column(
        ForeignKey("instructor.id", ondelete="CASCADE"), default=None
    )

    context: Mapped[LtiContext] = relationship()


class LtiLineItem(Base):
    """The LMS gradebook column of one assignment in one context (made by deep linking,
    else found by tag, or created); ``url`` is empty while a worker is creating it."""

    __tablename__ = "lti_line_item"
    __table_args__ = (
        UniqueConstraint("context_pk", "assignment_id", name="uq_lti_line_item_assignment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    lab: Mapped[str] = mapped_column(String(100))  # the assignment's lab, for the reader
    url: Mapped[str] = mapped_column(String(500))


class LtiCacheEntry(Base):
    """A launch nonce, state or launch's data: shared by every worker, gone at expiry."""

    __tablename__ = "lti_cache"
    __table_args__ = (Index("ix_lti_cache_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LtiPassback(Base):
    """The outbox row of one student: whether their grades may have changed, and the
    worker's claim on it.

    ``dirty`` is set in the transaction that may change a grade (a stored report, a
    decided flag) and cleared by the worker that claims the row; what was sent of each
    assignment is in :class:`LtiScore`. ``status``, ``attempts`` and ``last_error`` sum up
    the student's last round (``error`` if one of their scores failed).
    """

    __tablename__ = "lti_passback"
    __table_args__ = (Index("ix_lti_passback_due", "dirty", "next_try_at"),)

    student_pk: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), primary_key=True
    )
    member_pk: Mapped[int] = mapped_column(ForeignKey("lti_member.id", ondelete="CASCADE"))
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting|sent|error
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claim: Mapped[str] = mapped_column(String(40), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")


class LtiScore(Base):
    """What the LMS has of one student's grade for one assignment (its line item).

    ``sent_grade`` is the last grade the LMS acknowledged (never sent twice);
    ``pending_grade`` and ``last_timestamp`` the last one tried and its timestamp: a retry
    of the same grade resends that timestamp (see :mod:`webhook.lti.passback`).
    """

    __tablename__ = "lti_score"

    student_pk: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), primary_key=True
    )
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting|sending|sent|error
    sent_grade: Mapped[int | None] = mapped_column(Integer, default=None)
    pending_grade: Mapped[int | None] = mapped_column(Integer, default=None)
    last_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
