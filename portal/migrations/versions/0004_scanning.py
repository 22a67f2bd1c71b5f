"""vulnerability scanning: advisories and their lookup tables, scans, finding sets and CVE watches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 20:36:31.014854
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import portal.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("modified", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "aliases",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("imported_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
    )
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisories_imported_at"), ["imported_at"], unique=False)

    op.create_table(
        "advisory_aliases",
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("advisory_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_aliases_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identifier", "advisory_id", name=op.f("pk_advisory_aliases")),
    )
    with op.batch_alter_table("advisory_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisory_aliases_advisory_id"), ["advisory_id"], unique=False)

    op.create_table(
        "advisory_packages",
        sa.Column("advisory_id", sa.String(length=200), nullable=False),
        sa.Column("ecosystem", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column(
            "matching",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_packages_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("advisory_id", "ecosystem", "name", name=op.f("pk_advisory_packages")),
    )
    with op.batch_alter_table("advisory_packages", schema=None) as batch_op:
        batch_op.create_index("ix_advisory_packages_ecosystem_name", ["ecosystem", "name"], unique=False)

    op.create_table(
        "cve_watches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("cve_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_cve_watches_created_by_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_cve_watches_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cve_watches")),
        sa.UniqueConstraint("tenant_id", "cve_id", name=op.f("uq_cve_watches_tenant_id_cve_id")),
    )
    with op.batch_alter_table("cve_watches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cve_watches_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cve_watches_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "finding_sets",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("vulnerability_ids", sa.Text(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_finding_sets")),
    )

    op.create_table(
        "scans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("scanned_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("feed_version", sa.String(length=100), nullable=False),
        sa.Column("critical", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("medium", sa.Integer(), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("fixable", sa.Integer(), nullable=False),
        sa.Column("findings_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["findings_digest"], ["finding_sets.digest"], name=op.f("fk_scans_findings_digest_finding_sets")
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_scans_image_id_images"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["image_versions.id"],
            name=op.f("fk_scans_version_id_image_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scans_image_id"), ["image_id"], unique=False)
        batch_op.create_index("ix_scans_version_id_scanned_at", ["version_id", "scanned_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_version_id_scanned_at")
        batch_op.drop_index(batch_op.f("ix_scans_image_id"))

    op.drop_table("scans")
    op.drop_table("finding_sets")
    with op.batch_alter_table("cve_watches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cve_watches_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_cve_watches_created_at"))

    op.drop_table("cve_watches")
    with op.batch_alter_table("advisory_packages", schema=None) as batch_op:
        batch_op.drop_index("ix_advisory_packages_ecosystem_name")

    op.drop_table("advisory_packages")
    with op.batch_alter_table("advisory_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_aliases_advisory_id"))

    op.drop_table("advisory_aliases")
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisories_imported_at"))

    op.drop_table("advisories")
