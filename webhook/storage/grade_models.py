"""The table of decided grades (issue 19, migration 0015): one row per student and assignment.

Beside :mod:`webhook.storage.models` (which it extends, on the same ``Base``) only to keep
that module short: the migrations' ``env.py`` and the check that the migrations match the
models import it as they import every model module. What fills it and when is
:mod:`webhook.storage.stored_grades`'s.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, false
from sqlalchemy.orm import Mapped, mapped_column

from webhook.storage.models import Base


class AssignmentGrade(Base):
    """A student's grade for an assignment as :func:`submissions.scoring.assignment_grade`
    last decided it (its :class:`~submissions.scoring.Decision`), written in the transaction
    of the change that decided it, so that the course page reads one row per cell. No row:
    nothing decided yet, which is no grade and no mark. ``stale``: a report arrived since,
    and the row's decision is not to be shown until it is decided again."""

    __tablename__ = "assignment_grade"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True
    )
    student_pk: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    grade: Mapped[int | None] = mapped_column(Integer, default=None)
    raw: Mapped[int | None] = mapped_column(Integer, default=None)
    penalty: Mapped[int] = mapped_column(Integer, default=0)
    report_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the counted report
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A report came since the decision above: decide again before showing it
    #: (:func:`webhook.storage.stored_grades.settle`); ingest only marks it, at one statement.
    stale: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
