"""server hardening (filled in by issue 11)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _upgrade_logins()
    _upgrade_storage()


def downgrade() -> None:
    _downgrade_storage()
    _downgrade_logins()


# --- Logins (issue 11, items 3 and 9): a session generation per instructor ----------------
# Logging out counts it up; cookies of an older generation no longer log anyone in.


def _upgrade_logins() -> None:
    op.add_column(
        "instructor",
        sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False),
    )


def _downgrade_logins() -> None:
    with op.batch_alter_table("instructor") as batch:
        batch.drop_column("session_generation")


# --- Bounded storage (issue 11, item 2): raw XML for each student's latest 50 and best ------
# raw_dropped_at says when a report's raw XML was emptied; the partial index lists the
# reports that still keep theirs. Existing databases drop what the rule drops at once,
# except reports never checked for integrity (dialect_version ''), which a recheck reads.

RAW_KEPT_LATEST = 50  # webhook.storage.models.RAW_KEPT_LATEST when this was written


def _upgrade_storage() -> None:
    op.add_column("submission", sa.Column("raw_dropped_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_submission_raw_kept",
        "submission",
        ["student_pk", "id"],
        sqlite_where=sa.text("raw_dropped_at IS NULL"),
        postgresql_where=sa.text("raw_dropped_at IS NULL"),
    )
    bind = op.get_bind()
    now = sa.func.now() if bind.dialect.name == "postgresql" else sa.text("CURRENT_TIMESTAMP")
    submission = sa.table(
        "submission",
        sa.column("id", sa.Integer()),
        sa.column("student_pk", sa.Integer()),
        sa.column("score", sa.Integer()),
        sa.column("raw_xml", sa.Text()),
        sa.column("dialect_version", sa.String()),
        sa.column("raw_dropped_at", sa.DateTime(timezone=True)),
    )
    ranked = sa.select(
        submission.c.id,
        sa.func.row_number()
        .over(partition_by=submission.c.student_pk, order_by=submission.c.id.desc())
        .label("newest"),
        sa.func.row_number()
        .over(
            partition_by=submission.c.student_pk,
            order_by=(submission.c.score.desc(), submission.c.id),
        )
        .label("best"),
    ).subquery()
    dropped = sa.select(ranked.c.id).where(ranked.c.newest > RAW_KEPT_LATEST, ranked.c.best > 1)
    op.execute(
        submission.update()
        .where(submission.c.id.in_(dropped), submission.c.dialect_version != "")
        .values(raw_xml="", raw_dropped_at=now)
    )


def _downgrade_storage() -> None:
    """Dropped raw XML is not brought back: those reports keep ``raw_xml`` empty."""
    op.drop_index("ix_submission_raw_kept", table_name="submission")
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("raw_dropped_at")
