"""board: students' live progress and each assignment's board settings (issue 22)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

``board_setting``: whether an assignment takes progress (no row: off) and its stuck limit.
``progress``: each student's latest progress per assignment, one row updated in place.
``progress_change``: the bounded history of those changes. Nothing existing changes; down
drops the three tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_setting",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("stuck_minutes", sa.Integer(), server_default="5", nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"],
            name=op.f("fk_board_setting_assignment_id_assignment"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_board_setting")),
    )  # fmt: skip
    op.create_table(
        "progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"],
            name=op.f("fk_progress_assignment_id_assignment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["student.id"],
            name=op.f("fk_progress_student_pk_student"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress")),
        sa.UniqueConstraint(
            "assignment_id", "student_pk", name=op.f("uq_progress_assignment_id")
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_progress_student_pk"), "progress", ["student_pk"])
    op.create_table(
        "progress_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"],
            name=op.f("fk_progress_change_assignment_id_assignment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["student.id"],
            name=op.f("fk_progress_change_student_pk_student"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_change")),
    )  # fmt: skip
    op.create_index(
        "ix_progress_change_student", "progress_change", ["assignment_id", "student_pk", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_progress_change_student", table_name="progress_change")
    op.drop_table("progress_change")
    op.drop_index(op.f("ix_progress_student_pk"), table_name="progress")
    op.drop_table("progress")
    op.drop_table("board_setting")
