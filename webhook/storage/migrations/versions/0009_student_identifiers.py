"""a budget of evidence identifiers per student (issue 20, item 7)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

``student.identifiers`` counts the distinct evidence identifiers a student's reports stored
(webhook.crosscheck.budget): past MAX_STUDENT_IDENTIFIERS, new ones are not stored. Existing
students start at 0: the budget counts from the upgrade on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("student") as batch:
        batch.add_column(sa.Column("identifiers", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("student") as batch:
        batch.drop_column("identifiers")
