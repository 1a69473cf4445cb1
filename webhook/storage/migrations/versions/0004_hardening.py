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


def downgrade() -> None:
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
