from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantOwned
from portal.kit.ids import new_id


class CveWatch(TenantOwned, Base):
    __tablename__ = "cve_watches"
    __table_args__ = (UniqueConstraint("tenant_id", "cve_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    cve_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
