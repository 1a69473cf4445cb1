"""course scoping: server administrators (issue 20, item 3)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09

An instructor now sees in the gradebook only the courses they teach (``course_instructor``);
``instructor.is_admin`` marks a server administrator, who sees every course.

Existing instructors: before this revision every instructor saw every course. Those who
teach no course become administrators, so that a deployment whose logins were made with
``instructor create`` alone (teaching nothing) keeps its gradebook as it was; those who
teach a course (added with ``course add-instructor`` for verified reports, or by an LMS
launch) are scoped to their courses at once. ``grade-server instructor set USER
--no-admin`` takes the flag back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "instructor",
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    instructor = sa.table("instructor", sa.column("id", sa.Integer()), sa.column("is_admin"))
    teaches = sa.table("course_instructor", sa.column("instructor_id", sa.Integer()))
    op.execute(
        instructor.update()
        .where(~sa.exists().where(teaches.c.instructor_id == instructor.c.id))
        .values(is_admin=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("instructor") as batch:
        batch.drop_column("is_admin")
