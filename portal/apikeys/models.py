from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.actor import CreatedBy
from portal.db import Base, TenantOwned
from portal.kit.ids import new_id
from portal.users.models import Role


class ApiKey(CreatedBy, TenantOwned, Base):
    """A tenant's key for machines (CI). Only a hash of its secret is kept; the secret is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    # The secret's first characters (`ptk_` and 8 more): enough to tell keys apart in a list or a leak
    # report, far too few to use.
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(String(16))
    # The person behind the key: the user who created it (or the user behind the key that did). The key
    # acts only while that user is active, and never above that user's role.
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
