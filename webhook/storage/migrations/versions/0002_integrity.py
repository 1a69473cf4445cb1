"""integrity: flags, evidence keys, course dates

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Existing data: every submission gets the sha256 of its body; a submission flagged
under 0001 keeps its flag as an open flag row (``not_our_checks``, or ``grading_error``
when that is what it said). Reports stored before this revision carry
``dialect_version`` "" (not cross-checked yet): ``grade-server course recheck`` reads
them again and checks them like new ones.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("course", sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("course", sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))
    for column in (
        sa.Column("rejected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), server_default="", nullable=False),
        sa.Column("dialect_version", sa.String(length=10), server_default="", nullable=False),
        sa.Column("engine_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("engine_version", sa.String(length=100), server_default="", nullable=False),
    ):
        op.add_column("submission", column)

    op.create_table(
        "flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("other_student_pk", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_flag_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"],
            ["student.id"],
            name=op.f("fk_flag_student_pk_student"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_flag_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_student_pk"],
            ["student.id"],
            name=op.f("fk_flag_other_student_pk_student"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag")),
        sa.UniqueConstraint("key", name=op.f("uq_flag_key")),
    )
    op.create_index("ix_flag_course_status", "flag", ["course_id", "status"], unique=False)
    op.create_index("ix_flag_submission", "flag", ["submission_id"], unique=False)
    op.create_index("ix_flag_student", "flag", ["student_pk"], unique=False)

    op.create_table(
        "evidence_key",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_evidence_key_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"],
            ["student.id"],
            name=op.f("fk_evidence_key_student_pk_student"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_evidence_key_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "course_id", "value", "student_pk", "submission_id", name=op.f("pk_evidence_key")
        ),
        sqlite_with_rowid=False,
    )
    _keep_existing_data()


def _keep_existing_data() -> None:
    """Body hashes for the stored reports, and their 0001 flags as open flag rows."""
    connection = op.get_bind()
    submission = sa.table(
        "submission",
        *(sa.column(name) for name in ("id", "course_id", "student_pk", "received_at")),
        sa.column("raw_xml", sa.Text()),
        sa.column("flagged", sa.Boolean()),
        sa.column("flag_reason", sa.String()),
        sa.column("body_sha256", sa.String()),
    )
    flag = sa.table(
        "flag",
        *(
            sa.column(name)
            for name in (
                "key",
                "course_id",
                "student_pk",
                "submission_id",
                "kind",
                "reason",
                "status",
                "decided_by",
                "note",
                "created_at",
            )
        ),
    )
    rows = connection.execute(
        sa.select(
            submission.c.id,
            submission.c.course_id,
            submission.c.student_pk,
            submission.c.received_at,
            submission.c.raw_xml,
            submission.c.flagged,
            submission.c.flag_reason,
        )
    ).all()
    hashes, flags = [], []
    for row in rows:
        hashes.append({"pk": row.id, "hash": hashlib.sha256(row.raw_xml.encode()).hexdigest()})
        if row.flagged:
            reason = row.flag_reason or "flagged"
            kind = "grading_error" if reason.startswith("grading failed") else "not_our_checks"
            flags.append(
                {
                    "key": f"{row.id}:{kind}:",
                    "course_id": row.course_id,
                    "student_pk": row.student_pk,
                    "submission_id": row.id,
                    "kind": kind,
                    "reason": reason[:1000],
                    "status": "open",
                    "decided_by": "",
                    "note": "",
                    "created_at": row.received_at,
                }
            )
    if hashes:
        connection.execute(
            submission.update()
            .where(submission.c.id == sa.bindparam("pk"))
            .values(body_sha256=sa.bindparam("hash")),
            hashes,
        )
    if flags:
        connection.execute(flag.insert(), flags)


def downgrade() -> None:
    op.drop_table("evidence_key")
    op.drop_index("ix_flag_student", table_name="flag")
    op.drop_index("ix_flag_submission", table_name="flag")
    op.drop_index("ix_flag_course_status", table_name="flag")
    op.drop_table("flag")
    with op.batch_alter_table("submission") as batch_op:
        for name in ("engine_version", "engine_name", "dialect_version", "body_sha256", "rejected"):
            batch_op.drop_column(name)
    with op.batch_alter_table("course") as batch_op:
        batch_op.drop_column("closes_at")
        batch_op.drop_column("opens_at")
