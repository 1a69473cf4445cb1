"""verified grading: instructor API tokens, who teaches which course, report sources

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Existing data: every stored report is ``self`` (it came with a student's token or a
signed delivery); no instructor has an API token and no course an instructor, so nothing
can be verified until ``grade-server course add-instructor`` and ``instructor token``
are run. Every course gets the grade policy ``verified-else-self``, which counts exactly
what ``self`` counts while a course has no verified report: grades do not move.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "course",
        sa.Column(
            "grade_policy",
            sa.String(length=20),
            server_default="verified-else-self",
            nullable=False,
        ),
    )
    op.add_column("instructor", sa.Column("token_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "instructor", sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_instructor_token_hash", "instructor", ["token_hash"], unique=True)
    op.add_column(
        "submission",
        sa.Column("source", sa.String(length=10), server_default="self", nullable=False),
    )
    op.add_column(
        "submission",
        sa.Column("verified_by", sa.String(length=100), server_default="", nullable=False),
    )
    op.create_table(
        "course_instructor",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_instructor_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["instructor.id"],
            name=op.f("fk_course_instructor_instructor_id_instructor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "instructor_id", name=op.f("pk_course_instructor")),
    )


def downgrade() -> None:
    op.drop_table("course_instructor")
    with op.batch_alter_table("submission") as batch_op:
        batch_op.drop_column("verified_by")
        batch_op.drop_column("source")
    op.drop_index("ix_instructor_token_hash", table_name="instructor")
    with op.batch_alter_table("instructor") as batch_op:
        batch_op.drop_column("token_issued_at")
        batch_op.drop_column("token_hash")
    with op.batch_alter_table("course") as batch_op:
        batch_op.drop_column("grade_policy")
