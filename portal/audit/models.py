"""An audit event: who did what to which object, when, from where, and whether it was allowed."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.actor import ActorRef, ActorType
from portal.db import Base, JSONDocument, TenantOwned
from portal.kit.ids import new_id


class AuditEvent(TenantOwned, Base):
    """Append-only: written by `record_audit`, read by the lists, deleted only by the retention job."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at", "id"),
        Index("ix_audit_events_time", "occurred_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # None for the operator's vendor-wide actions (publishing an image, importing advisories) and for
    # sign-in attempts on a tenant that does not exist.
    tenant_id: Mapped[str | None] = mapped_column(  # type: ignore[assignment]
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True
    )
    occurred_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(320))
    actor_email: Mapped[str | None] = mapped_column(String(320))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(200))
    target_name: Mapped[str | None] = mapped_column(String(400))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    @property
    def actor(self) -> ActorRef:
        return ActorRef(
            type=ActorType(self.actor_type), id=self.actor_id, name=self.actor_name, email=self.actor_email
        )
