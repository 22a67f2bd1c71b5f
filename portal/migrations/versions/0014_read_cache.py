"""read cache: one revision counter per topic, bumped by every commit that changes the topic's data

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_revisions",
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_cache_revisions")),
    )


def downgrade() -> None:
    op.drop_table("cache_revisions")
