"""vulnerability intelligence: alias groups, NVD records, KEV, EPSS, and which packages each version has

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import portal.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Existing records keep derivation 0, so the next import of their feed derives them again (their
    # rating vector, their alias group): until then each one is its own vulnerability.
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cvss_vector", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("cvss_version", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=16), server_default="osv", nullable=False))
        batch_op.add_column(sa.Column("derivation", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("vulnerability_id", sa.String(length=200), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_advisories_vulnerability_id"), ["vulnerability_id"], unique=False
        )

    op.create_table(
        "vulnerabilities",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("ids", _JSON, nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("cvss_vector", sa.String(length=300), nullable=True),
        sa.Column("cvss_version", sa.String(length=8), nullable=True),
        sa.Column("severity_source", sa.String(length=200), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulnerabilities")),
    )
    op.create_table(
        "kev_entries",
        sa.Column("cve_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_project", sa.String(length=300), nullable=False),
        sa.Column("product", sa.String(length=300), nullable=False),
        sa.Column("vulnerability_name", sa.String(length=500), nullable=False),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("known_ransomware_campaign_use", sa.String(length=32), nullable=False),
        sa.Column("imported_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_kev_entries")),
    )
    op.create_table(
        "epss_scores",
        sa.Column("cve_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("score_date", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("imported_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_epss_scores")),
    )
    op.create_table(
        "version_packages",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("ecosystem", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["image_versions.id"],
            name=op.f("fk_version_packages_version_id_image_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "ecosystem", "name", name=op.f("pk_version_packages")),
    )
    with op.batch_alter_table("version_packages", schema=None) as batch_op:
        batch_op.create_index("ix_version_packages_ecosystem_name", ["ecosystem", "name"], unique=False)
    with op.batch_alter_table("finding_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cve_ids", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("finding_sets", schema=None) as batch_op:
        batch_op.drop_column("cve_ids")
    with op.batch_alter_table("version_packages", schema=None) as batch_op:
        batch_op.drop_index("ix_version_packages_ecosystem_name")
    op.drop_table("version_packages")
    op.drop_table("epss_scores")
    op.drop_table("kev_entries")
    op.drop_table("vulnerabilities")
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisories_vulnerability_id"))
        batch_op.drop_column("vulnerability_id")
        batch_op.drop_column("derivation")
        batch_op.drop_column("source")
        batch_op.drop_column("cvss_version")
        batch_op.drop_column("cvss_vector")
