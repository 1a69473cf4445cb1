"""late policies and per-student exceptions (issue 19, items 4 to 6)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

``assignment.late_policy``: an assignment's :class:`submissions.lateness.LatePolicy` as text.
Every existing assignment gets ``cutoff``, what grades did until now (late reports do not
count): no grade changes. ``assignment_exception``: an instructor's extension, *excused* or
override for one student, with who, when and a note; removed rows stay, as history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes one with a constant default): no table copy.
    op.add_column(
        "assignment",
        sa.Column("late_policy", sa.String(length=100), server_default="cutoff", nullable=False),
    )
    op.create_table(
        "assignment_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extra_days", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=100), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"],
            name=op.f("fk_assignment_exception_assignment_id_assignment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["student.id"],
            name=op.f("fk_assignment_exception_student_pk_student"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_exception")),
    )  # fmt: skip
    op.create_index(
        "ix_assignment_exception_assignment",
        "assignment_exception",
        ["assignment_id", "student_pk"],
    )
    op.create_index(
        "ix_assignment_exception_in_force",
        "assignment_exception",
        ["assignment_id", "student_pk", "kind"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_assignment_exception_in_force", table_name="assignment_exception")
    op.drop_index("ix_assignment_exception_assignment", table_name="assignment_exception")
    op.drop_table("assignment_exception")
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("late_policy")
