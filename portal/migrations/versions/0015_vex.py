"""VEX: the vendor's statements (one row per product they name) and each tenant's analyses of findings

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import portal.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vex_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=1000), nullable=False),
        sa.Column("vulnerability", sa.String(length=200), nullable=False),
        sa.Column("vulnerability_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("justification", sa.String(length=64), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column(
            "products",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_type", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("created_by_name", sa.String(length=320), nullable=False),
        sa.Column("created_by_email", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vex_statements")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_vex_statements_fingerprint")),
    )
    with op.batch_alter_table("vex_statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vex_statements_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_vex_statements_stated_at"), ["stated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_vex_statements_vulnerability"), ["vulnerability"], unique=False)

    op.create_table(
        "vex_statement_products",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("image_name", sa.String(length=200), nullable=True),
        sa.Column("image_digest", sa.String(length=71), nullable=True),
        sa.Column("container_key", sa.String(length=1000), nullable=True),
        sa.Column("container_version", sa.String(length=300), nullable=True),
        sa.Column("component_key", sa.String(length=1000), nullable=True),
        sa.Column("component_version", sa.String(length=300), nullable=True),
        sa.Column("vulnerability_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("justification", sa.String(length=64), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("stated_us", sa.BigInteger(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["vex_statements.id"],
            name=op.f("fk_vex_statement_products_statement_id_vex_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vex_statement_products")),
    )
    with op.batch_alter_table("vex_statement_products", schema=None) as batch_op:
        batch_op.create_index("ix_vex_statement_products_component_key", ["component_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vex_statement_products_image_name"), ["image_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vex_statement_products_statement_id"), ["statement_id"], unique=False
        )

    op.create_table(
        "finding_analyses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("vulnerability_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=True),
        sa.Column("justification", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_type", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("created_by_name", sa.String(length=320), nullable=False),
        sa.Column("created_by_email", sa.String(length=320), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_finding_analyses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["image_versions.id"],
            name=op.f("fk_finding_analyses_version_id_image_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_analyses")),
    )
    with op.batch_alter_table("finding_analyses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_analyses_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_finding_analyses_tenant_version", ["tenant_id", "version_id", "recorded_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("finding_analyses", schema=None) as batch_op:
        batch_op.drop_index("ix_finding_analyses_tenant_version")
        batch_op.drop_index(batch_op.f("ix_finding_analyses_tenant_id"))

    op.drop_table("finding_analyses")
    with op.batch_alter_table("vex_statement_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vex_statement_products_statement_id"))
        batch_op.drop_index(batch_op.f("ix_vex_statement_products_image_name"))
        batch_op.drop_index("ix_vex_statement_products_component_key")

    op.drop_table("vex_statement_products")
    with op.batch_alter_table("vex_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vex_statements_vulnerability"))
        batch_op.drop_index(batch_op.f("ix_vex_statements_stated_at"))
        batch_op.drop_index(batch_op.f("ix_vex_statements_created_at"))

    op.drop_table("vex_statements")
