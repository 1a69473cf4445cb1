"""LTI 1.3: registrations, deployments, contexts, members, line items, launch cache, outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

New tables only (:mod:`webhook.lti.models` says what each keeps); existing data is
untouched, and no course sends grades anywhere until a platform is registered with
``grade-server lti platform add``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_cache",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lti_cache")),
    )
    op.create_index("ix_lti_cache_expires_at", "lti_cache", ["expires_at"], unique=False)
    op.create_table(
        "lti_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.String(length=500), nullable=False),
        sa.Column("auth_token_url", sa.String(length=500), nullable=False),
        sa.Column("key_set_url", sa.String(length=500), nullable=False),
        sa.Column("auth_audience", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_registration")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_registration_issuer")),
        sa.UniqueConstraint("name", name=op.f("uq_lti_registration_name")),
    )
    op.create_table(
        "lti_tool_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=100), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_tool_key")),
        sa.UniqueConstraint("kid", name=op.f("uq_lti_tool_key_kid")),
    )
    op.create_table(
        "lti_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_lti_deployment_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_lti_deployment_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_deployment")),
        sa.UniqueConstraint(
            "registration_id", "deployment_id", name=op.f("uq_lti_deployment_registration_id")
        ),
    )
    op.create_table(
        "lti_context",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_pk", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("lineitems_url", sa.String(length=500), nullable=False),
        sa.Column("ags_scopes", sa.String(length=1000), nullable=False),
        sa.Column("memberships_url", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_lti_context_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_pk"],
            ["lti_deployment.id"],
            name=op.f("fk_lti_context_deployment_pk_lti_deployment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_context")),
        sa.UniqueConstraint(
            "deployment_pk", "context_id", name=op.f("uq_lti_context_deployment_pk")
        ),
    )
    op.create_table(
        "lti_line_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("lab", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["lti_context.id"],
            name=op.f("fk_lti_line_item_context_pk_lti_context"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_line_item")),
        sa.UniqueConstraint("context_pk", "lab", name=op.f("uq_lti_line_item_context_pk")),
    )
    op.create_table(
        "lti_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=True),
        sa.Column("instructor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["lti_context.id"],
            name=op.f("fk_lti_member_context_pk_lti_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["instructor.id"],
            name=op.f("fk_lti_member_instructor_id_instructor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"],
            ["student.id"],
            name=op.f("fk_lti_member_student_pk_student"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_member")),
        sa.UniqueConstraint("context_pk", "sub", name=op.f("uq_lti_member_context_pk")),
    )
    op.create_index(op.f("ix_lti_member_student_pk"), "lti_member", ["student_pk"], unique=False)
    op.create_table(
        "lti_passback",
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("member_pk", sa.Integer(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sent_grade", sa.Integer(), nullable=True),
        sa.Column("pending_grade", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=40), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("last_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_pk"],
            ["lti_member.id"],
            name=op.f("fk_lti_passback_member_pk_lti_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"],
            ["student.id"],
            name=op.f("fk_lti_passback_student_pk_student"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_pk", name=op.f("pk_lti_passback")),
    )
    op.create_index("ix_lti_passback_due", "lti_passback", ["dirty", "next_try_at"], unique=False)


def downgrade() -> None:
    op.drop_table("lti_passback")
    op.drop_table("lti_line_item")
    op.drop_table("lti_member")
    op.drop_table("lti_context")
    op.drop_table("lti_deployment")
    op.drop_table("lti_tool_key")
    op.drop_table("lti_registration")
    op.drop_table("lti_cache")
