"""LTI per assignment: a line item and a sent score per assignment (issue 19, item 9)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Until 0012 a course sent one grade to one LMS column, that of its lab. Now each
assignment has its own column and its own grade:

* ``lti_line_item`` gains ``assignment_id`` (the link lives in LTI's table: storage knows
  nothing of LTI). A remembered column (context, lab) becomes the column of the course's
  assignment of that lab (the first made, if the course has several: the one 0011 made);
  one whose course has no assignment of that lab is forgotten (it is found again by its tag
  if an assignment of the lab is made). Unique per (context, assignment), no longer per lab.
* ``lti_score`` (new): what the LMS has of each student's grade for each assignment. The
  outbox rows' sent grade, pending grade, last timestamp and error move there, under the
  course's first assignment (the one whose grade they were), so nothing is sent again.
  ``lti_passback`` keeps the claim and the summary of the student's last round.

No way down: a course's several columns have no one lab to go back to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NO_DOWNGRADE = (
    "revision 0013 (LTI per assignment) cannot be downgraded: a course's several LMS "
    "columns have no one lab to go back to; restore a backup taken before it instead"
)

_FIRST_ASSIGNMENT_OF_STUDENT = (
    "(SELECT min(a.id) FROM assignment a JOIN student s ON s.course_id = a.course_id"
    " WHERE s.id = lti_passback.student_pk)"
)
_ASSIGNMENT_OF_LINE_ITEM = (
    "(SELECT min(a.id) FROM assignment a JOIN lti_context c ON c.course_id = a.course_id"
    " WHERE c.id = lti_line_item.context_pk AND a.lab = lti_line_item.lab)"
)


def upgrade() -> None:
    op.create_table(
        "lti_score",
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sent_grade", sa.Integer(), nullable=True),
        sa.Column("pending_grade", sa.Integer(), nullable=True),
        sa.Column("last_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_lti_score_assignment_id_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"],
            ["student.id"],
            name=op.f("fk_lti_score_student_pk_student"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_pk", "assignment_id", name=op.f("pk_lti_score")),
    )
    op.execute(
        "INSERT INTO lti_score (student_pk, assignment_id, status, sent_grade, pending_grade,"
        " last_timestamp, last_error, sent_at)"
        f" SELECT student_pk, {_FIRST_ASSIGNMENT_OF_STUDENT}, status, sent_grade,"
        " pending_grade, last_timestamp, last_error, sent_at FROM lti_passback"
        " WHERE (sent_grade IS NOT NULL OR pending_grade IS NOT NULL"
        " OR last_timestamp IS NOT NULL)"
        f" AND {_FIRST_ASSIGNMENT_OF_STUDENT} IS NOT NULL"
    )
    with op.batch_alter_table("lti_passback") as batch:
        for column in ("sent_grade", "pending_grade", "last_timestamp", "sent_at"):
            batch.drop_column(column)

    op.add_column("lti_line_item", sa.Column("assignment_id", sa.Integer(), nullable=True))
    op.execute(f"UPDATE lti_line_item SET assignment_id = {_ASSIGNMENT_OF_LINE_ITEM}")
    op.execute("DELETE FROM lti_line_item WHERE assignment_id IS NULL")
    with op.batch_alter_table("lti_line_item") as batch:
        batch.alter_column("assignment_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint(op.f("uq_lti_line_item_context_pk"), type_="unique")
        batch.create_unique_constraint(
            "uq_lti_line_item_assignment", ["context_pk", "assignment_id"]
        )
        batch.create_foreign_key(
            op.f("fk_lti_line_item_assignment_id_assignment"),
            "assignment",
            ["assignment_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    raise RuntimeError(NO_DOWNGRADE)
