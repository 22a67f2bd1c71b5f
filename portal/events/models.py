from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, JSONDocument, TenantOwned
from portal.kit.ids import new_id


class OutboxEvent(TenantOwned, Base):
    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    event_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Set once the event has been fanned out to the tenant's subscriptions.
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)
