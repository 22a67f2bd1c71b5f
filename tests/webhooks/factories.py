"""Subscriptions and events made through the real services, for tests that do not go through HTTP."""

from typing import Any

from portal.events import EventType, record_event
from portal.runtime import Runtime
from portal.tenants.models import Tenant
from portal.webhooks.models import WebhookSubscription
from portal.webhooks.schemas import SubscriptionCreate
from portal.webhooks.service import WebhookService
from tests.factories import OPERATOR


async def make_subscription(
    runtime: Runtime, tenant: Tenant, url: str, events: list[EventType] | None = None
) -> WebhookSubscription:
    """A subscription; its `secret` attribute is the one the API shows at creation."""
    async with runtime.db.transaction() as session:
        service = WebhookService(session, allow_private=True, clock=runtime.clock)
        body = SubscriptionCreate(url=url, events=events or [EventType.SCAN_COMPLETED])
        return (await service.upsert(OPERATOR.within(tenant.ref), body)).subscription


async def queue_event(
    runtime: Runtime, tenant: Tenant, event_type: EventType, data: dict[str, Any] | None = None
) -> str:
    """Writes an event to the outbox the way features do, and commits it."""
    async with runtime.db.transaction() as session:
        event = record_event(session, tenant.id, event_type, data or {"n": 1}, clock=runtime.clock)
        await session.flush()
        return event.id
