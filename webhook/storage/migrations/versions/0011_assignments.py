"""assignments: every course becomes one assignment of its lab (issue 19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Until 0010 a course was one lab, scored from the server's one rubric, with one window
and one grade policy. Each course becomes one :class:`Assignment` of that lab:

* the lab and the rubric (version 1, ``created_by`` ``migration``) are the server's: the
  rubric every stored report was scored from. ``grade-server db upgrade`` hands over the
  app's own (``GRADER_RUBRIC`` however it is set, or the shipped one); called without it
  (``webhook.storage.db.upgrade`` alone) the migration reads the ``GRADER_RUBRIC``
  environment variable, else the shipped ``submissions/rubric.json``. A course's reports
  that name another lab were flagged ``not_our_checks`` and stay in it, flags and all;
* slug: the lab's name; title: ``<course name> lab``, the column name the exports and the
  LMS already know (Canvas matches an import's columns by name);
* dates and grade policy: the course's (the course keeps them, as the defaults of its
  next assignments);
* every submission is filed under its course's assignment. No score changes: scores are
  stored, and grades are computed from them with the same dates and policy.

There is no way down: a database with assignments cannot be told which of a course's
several assignments its one rubric and window would be. A downgrade below 0011 is refused.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from submissions.rubric import load_rubric, rubric_from_json, shipped_rubric

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NO_DOWNGRADE = (
    "revision 0011 (assignments) cannot be downgraded: a course's several assignments "
    "have no one rubric and window to go back to; restore a backup taken before it instead"
)


def server_rubric_json() -> str:
    """The rubric the server scored every stored report from (see the module's docstring)."""
    handed: str | None = context.config.attributes.get("rubric_json")
    if handed:
        return handed
    path = os.environ.get("GRADER_RUBRIC")
    rubric = load_rubric(Path(path)) if path else shipped_rubric()
    return rubric.to_json()


def upgrade() -> None:
    rubric_json = server_rubric_json()
    lab = rubric_from_json(rubric_json, source="the server's rubric").lab
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("lab", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "grade_policy",
            sa.String(length=20),
            server_default="verified-else-self",
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_assignment_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint("course_id", "slug", name=op.f("uq_assignment_course_id")),
    )
    op.create_index("ix_assignment_course_lab", "assignment", ["course_id", "lab"], unique=False)
    op.create_table(
        "assignment_rubric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rubric", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_assignment_rubric_assignment_id_assignment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rubric")),
        sa.UniqueConstraint(
            "assignment_id", "version", name=op.f("uq_assignment_rubric_assignment_id")
        ),
    )
    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("assignment_id", sa.Integer(), nullable=True))

    connection = op.get_bind()
    course = sa.table(
        "course",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("opens_at", sa.DateTime(timezone=True)),
        sa.column("closes_at", sa.DateTime(timezone=True)),
        sa.column("grade_policy", sa.String()),
    )
    assignment = sa.table(
        "assignment",
        sa.column("id", sa.Integer()),
        sa.column("course_id", sa.Integer()),
        sa.column("slug", sa.String()),
        sa.column("lab", sa.String()),
        sa.column("title", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("opens_at", sa.DateTime(timezone=True)),
        sa.column("closes_at", sa.DateTime(timezone=True)),
        sa.column("grade_policy", sa.String()),
    )
    versions = sa.table(
        "assignment_rubric",
        sa.column("assignment_id", sa.Integer()),
        sa.column("version", sa.Integer()),
        sa.column("rubric", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String()),
    )
    submission = sa.table(
        "submission", sa.column("course_id", sa.Integer()), sa.column("assignment_id", sa.Integer())
    )
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as UTCDateTime stores it there
    for row in connection.execute(sa.select(course).order_by(course.c.id)).all():
        # Alembic's bulk_insert has no RETURNING: the row is found again by (course, slug).
        connection.execute(
            assignment.insert().values(
                course_id=row.id, slug=lab[:64], lab=lab, title=f"{row.name} lab"[:200],
                created_at=row.created_at, opens_at=row.opens_at, closes_at=row.closes_at,
                grade_policy=row.grade_policy,
            )
        )  # fmt: skip
        made = connection.execute(
            sa.select(assignment.c.id).where(
                assignment.c.course_id == row.id, assignment.c.slug == lab[:64]
            )
        ).scalar_one()
        connection.execute(
            versions.insert().values(
                assignment_id=made, version=1, rubric=rubric_json, created_at=now,
                created_by="migration",
            )
        )  # fmt: skip
        connection.execute(
            submission.update().where(submission.c.course_id == row.id).values(assignment_id=made)
        )

    with op.batch_alter_table("submission") as batch:
        batch.alter_column("assignment_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f("fk_submission_assignment_id_assignment"),
            "assignment",
            ["assignment_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_submission_assignment_received",
        "submission",
        ["assignment_id", "received_at"],
        unique=False,
    )


def downgrade() -> None:
    raise RuntimeError(NO_DOWNGRADE)
