"""created_by names any actor (user, API key, operator) instead of only a user

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the column that named the creating user, its foreign key)
CREATORS = (
    ("cve_watches", "created_by", "fk_cve_watches_created_by_users"),
    ("feature_requests", "created_by_id", "fk_feature_requests_created_by_id_users"),
)


def upgrade() -> None:
    for table, user_column, foreign_key in CREATORS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(foreign_key, type_="foreignkey")
            batch_op.add_column(sa.Column("created_by_type", sa.String(length=16), nullable=True))
            if user_column != "created_by_id":
                batch_op.add_column(sa.Column("created_by_id", sa.String(length=36), nullable=True))
            batch_op.add_column(sa.Column("created_by_name", sa.String(length=320), nullable=True))
            batch_op.add_column(sa.Column("created_by_email", sa.String(length=320), nullable=True))
        email = f"(SELECT users.email FROM users WHERE users.id = {table}.{user_column})"
        op.execute(
            f"UPDATE {table} SET created_by_type = 'user', created_by_id = {user_column}, "
            f"created_by_name = {email}, created_by_email = {email}"
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("created_by_type", existing_type=sa.String(length=16), nullable=False)
            batch_op.alter_column("created_by_name", existing_type=sa.String(length=320), nullable=False)
            if user_column == "created_by_id":
                batch_op.alter_column(user_column, existing_type=sa.String(length=36), nullable=True)
            else:
                batch_op.drop_column(user_column)


def downgrade() -> None:
    for table, user_column, foreign_key in CREATORS:
        # Rows created by an API key or the operator name no user; they cannot go back.
        op.execute(f"DELETE FROM {table} WHERE created_by_type != 'user'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            if user_column != "created_by_id":
                batch_op.add_column(sa.Column(user_column, sa.String(length=36), nullable=True))
        if user_column != "created_by_id":
            op.execute(f"UPDATE {table} SET {user_column} = created_by_id")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("created_by_email")
            batch_op.drop_column("created_by_name")
            batch_op.drop_column("created_by_type")
            if user_column != "created_by_id":
                batch_op.drop_column("created_by_id")
            batch_op.alter_column(user_column, existing_type=sa.String(length=36), nullable=False)
            batch_op.create_foreign_key(foreign_key, "users", [user_column], ["id"], ondelete="CASCADE")
