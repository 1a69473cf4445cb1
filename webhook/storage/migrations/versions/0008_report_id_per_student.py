"""report ids unique per student (issue 20, item 9)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A report id was unique over the whole server: a student who posted another's report id
first made the owner's report a 409. Now it is unique per student, (student_pk,
report_id), and the same id from two students of a course is found by
``ix_submission_course_report`` and flagged as a copy. Existing rows already satisfy the
new constraint (the old one was stricter).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.drop_constraint("uq_submission_report_id", type_="unique")
        batch.create_unique_constraint("uq_submission_student_pk", ["student_pk", "report_id"])
    op.create_index(
        "ix_submission_course_report", "submission", ["course_id", "report_id"], unique=False
    )


def downgrade() -> None:
    """Fails if two students now hold one report id: the older schema cannot keep both."""
    op.drop_index("ix_submission_course_report", table_name="submission")
    with op.batch_alter_table("submission") as batch:
        batch.drop_constraint("uq_submission_student_pk", type_="unique")
        batch.create_unique_constraint("uq_submission_report_id", ["report_id"])
