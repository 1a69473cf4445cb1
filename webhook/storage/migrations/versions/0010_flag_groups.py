"""flag groups: a shared piece of evidence is one group of flags (issue 20, item 6)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

A ``flag_group`` per identifier that two students' reports name, holding who showed it
first (item 4's rule: a verified report before self-reported ones, then the earliest),
and ``flag.group_id`` filing each later report's ``shared_evidence`` flag under it.
Flags found before keep their rows and decisions, without a group; a ``course recheck``
files them by group.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("first_student_pk", sa.Integer(), nullable=False),
        sa.Column("first_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_flag_group_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["first_student_pk"], ["student.id"],
            name=op.f("fk_flag_group_first_student_pk_student"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_group")),
        sa.UniqueConstraint("course_id", "value", name=op.f("uq_flag_group_course_id")),
    )  # fmt: skip
    with op.batch_alter_table("flag") as batch:
        batch.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_flag_group_id_flag_group"), "flag_group", ["group_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
        batch.create_index(op.f("ix_flag_group_id"), ["group_id"])


def downgrade() -> None:
    with op.batch_alter_table("flag") as batch:
        batch.drop_index(op.f("ix_flag_group_id"))
        batch.drop_constraint(op.f("fk_flag_group_id_flag_group"), type_="foreignkey")
        batch.drop_column("group_id")
    op.drop_table("flag_group")
