"""the image catalog: images, versions, their SBOMs, hardening tags and entitlements

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:29:47.205201
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import portal.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("repository", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("latest_version_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("name", name=op.f("uq_images_name")),
    )
    op.create_table(
        "image_entitlements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("granted_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_entitlements_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_image_entitlements_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_entitlements")),
        sa.UniqueConstraint("tenant_id", "image_id", name=op.f("uq_image_entitlements_tenant_id_image_id")),
    )
    with op.batch_alter_table("image_entitlements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_entitlements_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_image_entitlements_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "image_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "architectures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "hardening_tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("component_count", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(length=32), nullable=False),
        sa.Column("published_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("unpublished_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_versions_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_versions")),
        sa.UniqueConstraint("image_id", "digest", name=op.f("uq_image_versions_image_id_digest")),
    )
    with op.batch_alter_table("image_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_versions_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_image_versions_published_at"), ["published_at"], unique=False)

    op.create_table(
        "image_version_hardening_tags",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["image_versions.id"],
            name=op.f("fk_image_version_hardening_tags_version_id_image_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "tag", name=op.f("pk_image_version_hardening_tags")),
    )
    with op.batch_alter_table("image_version_hardening_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_version_hardening_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "image_version_sboms",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("inventory", sa.LargeBinary(), nullable=False),
        sa.Column("spdx", sa.LargeBinary(), nullable=False),
        sa.Column("spdx_sha256", sa.String(length=64), nullable=False),
        sa.Column("cyclonedx", sa.LargeBinary(), nullable=False),
        sa.Column("cyclonedx_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["image_versions.id"],
            name=op.f("fk_image_version_sboms_version_id_image_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_image_version_sboms")),
    )


def downgrade() -> None:
    op.drop_table("image_version_sboms")
    with op.batch_alter_table("image_version_hardening_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_version_hardening_tags_tag"))

    op.drop_table("image_version_hardening_tags")
    with op.batch_alter_table("image_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_versions_published_at"))
        batch_op.drop_index(batch_op.f("ix_image_versions_image_id"))

    op.drop_table("image_versions")
    with op.batch_alter_table("image_entitlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_entitlements_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_image_entitlements_image_id"))

    op.drop_table("image_entitlements")
    op.drop_table("images")
