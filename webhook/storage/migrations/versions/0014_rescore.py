"""rescore: which rubric version scored each report, and the history of re-scorings (issue 19)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

``submission.rubric_version`` names the assignment's rubric version a stored score is
from. Ingest always scored from the newest version, so a report stored before this
revision was scored by the newest version made before it arrived (version 1 when it
arrived before any: 0011 made version 1 at migration time from the rubric that scored
it). ``assignment_rescore`` keeps each re-scoring: who, when, from which versions to
which, how many reports and grades it changed. Down drops both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.add_column(
            sa.Column("rubric_version", sa.Integer(), server_default="1", nullable=False)
        )
    op.execute(
        "UPDATE submission SET rubric_version = COALESCE(("
        " SELECT MAX(r.version) FROM assignment_rubric r"
        " WHERE r.assignment_id = submission.assignment_id"
        " AND r.created_at <= submission.received_at), 1)"
    )
    op.create_table(
        "assignment_rescore",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("done_by", sa.String(length=100), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_versions", sa.String(length=200), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("reports_changed", sa.Integer(), nullable=False),
        sa.Column("grades_changed", sa.Integer(), nullable=False),
        sa.Column("kept_old", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"],
            name=op.f("fk_assignment_rescore_assignment_id_assignment"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rescore")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_assignment_rescore_assignment_id"), "assignment_rescore", ["assignment_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assignment_rescore_assignment_id"), table_name="assignment_rescore")
    op.drop_table("assignment_rescore")
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("rubric_version")
