"""coursepage: every student's decided grade per assignment, stored (issue 19, performance)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

``assignment_grade`` holds, per student and assignment, what the grade function decided
(:class:`webhook.storage.grade_models.AssignmentGrade`), so that the course page reads one
row per cell instead of deciding every report again. The upgrade fills it for the existing
data by that same function (:func:`webhook.storage.stored_grades.fill`): the stored grades
are the ones the server computed before it. ``ix_submission_student_assignment`` is what
deciding one student's grade reads. ``stale`` marks a row a report has outdated since (ingest
marks, the course page decides again). Down drops both (nothing is lost: the table is derived
from the reports, flags and exceptions, which stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_grade",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("raw", sa.Integer(), nullable=True),
        sa.Column("penalty", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("excused", sa.Boolean(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("stale", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"],
            name=op.f("fk_assignment_grade_assignment_id_assignment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["student.id"],
            name=op.f("fk_assignment_grade_student_pk_student"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assignment_id", "student_pk", name=op.f("pk_assignment_grade")),
    )  # fmt: skip
    op.create_index(op.f("ix_assignment_grade_student_pk"), "assignment_grade", ["student_pk"])
    # What deciding one student's grade reads (at each report): their reports of the
    # assignment, not the assignment's 20,000 scanned for theirs.
    op.create_index(
        "ix_submission_student_assignment", "submission", ["student_pk", "assignment_id"]
    )
    # The grade function of this release decides them: the schema is this revision's.
    from webhook.storage.stored_grades import fill

    fill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_submission_student_assignment", table_name="submission")
    op.drop_index(op.f("ix_assignment_grade_student_pk"), table_name="assignment_grade")
    op.drop_table("assignment_grade")
