"""LTI: whether a platform vouches for its users' emails, and where it frames the tool from
(issue 20, items 10 and 11)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``lti_registration.trust_email``: a learner's first launch is matched to a roster student
by email only on a platform registered with ``--trust-email``. Existing platforms start
untrusted (the safe side): their learners already bound stay bound; new ones are matched
by their SIS id, or enrolled.

``lti_registration.frame_origins``: origins besides the issuer's and the login URL's that
may frame the tool's pages (``--frame-origin``; empty for existing platforms).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_registration") as batch:
        batch.add_column(
            sa.Column("trust_email", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("frame_origins", sa.String(length=1000), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("lti_registration") as batch:
        batch.drop_column("frame_origins")
        batch.drop_column("trust_email")
