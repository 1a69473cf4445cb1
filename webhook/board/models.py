"""The live class board's tables (issue 22), on storage's :class:`~webhook.storage.models.Base`.

Migration ``0016`` creates them. Storage knows nothing of the board: these point at its
tables by foreign key, and the migrations' env imports this module.

* :class:`BoardSetting`: whether an assignment takes students' progress (off unless an
  instructor turns it on: ``grade-server assignment set COURSE SLUG --progress on``) and
  after how many minutes on the same failure a student counts as stuck.
* :class:`Progress`: each student's latest progress on an assignment, one row updated in
  place: each check's status, one-line message and since when it has said so.
* :class:`ProgressChange`: the changes, for the class meeting afterwards; bounded to
  :data:`webhook.board.store.HISTORY_KEPT` rows per student and assignment.

Progress is never a grade: nothing here is read by scoring, the gradebook's grades, the
exports or the LMS passback.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from webhook.storage.models import Base, UTCDateTime, utcnow

#: Minutes on the same failure before a student is listed as stuck, unless set.
DEFAULT_STUCK_MINUTES = 5


class BoardSetting(Base):
    """An assignment's board settings; no row is progress off, stuck after 5 minutes."""

    __tablename__ = "board_setting"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True
    )
    progress: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stuck_minutes: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_STUCK_MINUTES, server_default=str(DEFAULT_STUCK_MINUTES)
    )


class Progress(Base):
    """A student's latest progress on an assignment (one row each, updated in place)."""

    __tablename__ = "progress"
    __table_args__ = (UniqueConstraint("assignment_id", "student_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    student_pk: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), index=True
    )
    # JSON: [{"id", "status", "message", "since"}], "since" in epoch seconds
    checks: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last post
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last change


class ProgressChange(Base):
    """One change of a student's progress: what it became, and when."""

    __tablename__ = "progress_change"
    __table_args__ = (Index("ix_progress_change_student", "assignment_id", "student_pk", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    student_pk: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checks: Mapped[str] = mapped_column(Text)  # the JSON of Progress.checks at that moment
