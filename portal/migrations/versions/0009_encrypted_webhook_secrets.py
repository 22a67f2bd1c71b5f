"""webhook signing secrets are stored encrypted (Fernet under PORTAL_ENCRYPTION_KEY)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBSCRIPTIONS = sa.table(
    "webhook_subscriptions",
    sa.column("id", sa.String),
    sa.column("secret", sa.String),
    sa.column("previous_secret", sa.String),
)


def _recode(encode: bool) -> None:
    """Encrypts (or decrypts) every stored secret with the keys of the settings this process runs with,
    the same `portal db upgrade` and `portal serve` read."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(SUBSCRIPTIONS)).all()
    if not rows:
        return
    from portal.config import load_settings
    from portal.kit.encryption import SecretBox

    box = SecretBox(load_settings().effective_encryption_keys)
    recode = box.encrypt if encode else box.decrypt
    for row in rows:
        connection.execute(
            sa.update(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.id == row.id)
            .values(
                secret=recode(row.secret),
                previous_secret=recode(row.previous_secret) if row.previous_secret else None,
            )
        )


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=100), type_=sa.String(length=500))
        batch_op.alter_column(
            "previous_secret", existing_type=sa.String(length=100), type_=sa.String(length=500)
        )
    _recode(encode=True)


def downgrade() -> None:
    _recode(encode=False)
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=500), type_=sa.String(length=100))
        batch_op.alter_column(
            "previous_secret", existing_type=sa.String(length=500), type_=sa.String(length=100)
        )
