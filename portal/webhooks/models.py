from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, JSONDocument, TenantOwned
from portal.kit.ids import new_id


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AttemptTrigger(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class WebhookSubscription(TenantOwned, Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (UniqueConstraint("tenant_id", "url"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSONDocument)
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # Encrypted (kit.encryption: Fernet under PORTAL_ENCRYPTION_KEY): signing needs the secret itself,
    # a dump of the database must not give it. No API answer or log carries it after creation.
    secret: Mapped[str] = mapped_column(String(500))
    # After a rotation the old secret signs too, until this moment; encrypted the same way.
    previous_secret: Mapped[str | None] = mapped_column(String(500))
    previous_secret_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def signing_secrets(self, now: datetime) -> list[str]:
        """The stored (encrypted) secrets that sign at `now`."""
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(TenantOwned, Base):
    """One event for one subscription. Its body and message id are fixed when it is created, so every
    attempt and every redelivery sends the same bytes under the same `webhook-id`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_listing", "subscription_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[str | None] = mapped_column(ForeignKey("outbox_events.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # When the next attempt is due; None once the delivery has succeeded or failed.
    next_attempt_at: Mapped[datetime | None]
    next_trigger: Mapped[AttemptTrigger] = mapped_column(String(16))
    # Attempts made since the delivery was last queued: the position in the retry schedule.
    scheduled_attempts: Mapped[int] = mapped_column(default=0)
    # The lease of the worker sending it now; another worker leaves it alone until `locked_until`.
    locked_until: Mapped[datetime | None]
    lease_id: Mapped[str | None] = mapped_column(String(36))


class WebhookAttempt(TenantOwned, Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    trigger: Mapped[AttemptTrigger] = mapped_column(String(16))
    http_status: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str] = mapped_column(Text)


class WorkerHeartbeat(Base):
    """One row per running worker process, refreshed while it runs; `/api/status` reads it."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(index=True)
