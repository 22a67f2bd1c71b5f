"""Every table, imported in one place for the migrations' metadata."""

from portal.auth.refresh_tokens import RefreshToken
from portal.events.models import OutboxEvent
from portal.tenants.models import Tenant
from portal.users.models import User
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription, WorkerHeartbeat

__all__ = [
    "OutboxEvent",
    "RefreshToken",
    "Tenant",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkerHeartbeat",
]
