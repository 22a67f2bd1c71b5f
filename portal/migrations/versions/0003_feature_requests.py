"""feature requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 20:36:10.348357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feature_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("package_name", sa.String(length=200), nullable=True),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_package_key", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_feature_requests_created_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_feature_requests_image_id_images"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_feature_requests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_requests")),
        sa.UniqueConstraint(
            "tenant_id", "open_package_key", name=op.f("uq_feature_requests_tenant_id_open_package_key")
        ),
    )
    with op.batch_alter_table("feature_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feature_requests_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feature_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_feature_requests_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "feature_request_history",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feature_requests.id"],
            name=op.f("fk_feature_request_history_request_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_feature_request_history_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_request_history")),
    )
    with op.batch_alter_table("feature_request_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feature_request_history_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feature_request_history_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feature_request_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feature_request_history_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_feature_request_history_request_id"))

    op.drop_table("feature_request_history")
    with op.batch_alter_table("feature_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feature_requests_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_feature_requests_status"))
        batch_op.drop_index(batch_op.f("ix_feature_requests_created_at"))

    op.drop_table("feature_requests")
