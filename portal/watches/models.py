from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.actor import CreatedBy
from portal.db import Base, TenantOwned
from portal.kit.ids import new_id


class CveWatch(CreatedBy, TenantOwned, Base):
    __tablename__ = "cve_watches"
    __table_args__ = (UniqueConstraint("tenant_id", "cve_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    cve_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(index=True)
