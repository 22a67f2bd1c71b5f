"""Fan-out: each outbox event becomes one delivery per subscription that wants it.

The claim, the new deliveries and the `dispatched_at` mark are one transaction, so an event is fanned out
exactly once: a crash before the commit leaves it undispatched, and on PostgreSQL two workers skip each
other's claimed rows (`FOR UPDATE SKIP LOCKED`). On SQLite the claim is a single `UPDATE ... RETURNING`,
which takes the database's write lock at once, so only one claimer runs at a time.
"""

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.events import EventType, OutboxEvent
from portal.kit.clock import rfc3339
from portal.kit.ids import new_id
from portal.kit.tenancy import across_tenants
from portal.webhooks.models import AttemptTrigger, DeliveryStatus, WebhookDelivery, WebhookSubscription

FAN_OUT_BATCH = 500


def new_message_id() -> str:
    # Standard Webhooks ids are opaque; a prefix says what the string is when it shows up in a log.
    return "msg_" + secrets.token_urlsafe(18)


def delivery_body(event: OutboxEvent) -> str:
    """The body every attempt of the event's deliveries sends, byte for byte."""
    document = {"type": event.event_type, "timestamp": rfc3339(event.created_at), "data": event.data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def wants(subscription: WebhookSubscription, event: OutboxEvent) -> bool:
    if event.event_type == EventType.WEBHOOK_TEST:
        # A test goes to the subscription it names, whatever that subscription's event filter says.
        return bool(event.data.get("webhookId") == subscription.id)
    return subscription.active and event.event_type in subscription.events


def deliveries_for(
    event: OutboxEvent, subscriptions: Iterable[WebhookSubscription], now: datetime
) -> list[WebhookDelivery]:
    body: str | None = None
    created: list[WebhookDelivery] = []
    for subscription in subscriptions:
        if subscription.tenant_id != event.tenant_id or not wants(subscription, event):
            continue
        body = body if body is not None else delivery_body(event)
        created.append(
            WebhookDelivery(
                id=new_id(),
                tenant_id=event.tenant_id,
                subscription_id=subscription.id,
                event_id=event.id,
                event_type=event.event_type,
                message_id=new_message_id(),
                payload=body,
                status=DeliveryStatus.PENDING,
                created_at=now,
                next_attempt_at=now,
                next_trigger=AttemptTrigger.SCHEDULED,
                scheduled_attempts=0,
            )
        )
    return created


async def claim_undispatched_events(session: AsyncSession, now: datetime, limit: int) -> list[OutboxEvent]:
    waiting = (
        select(OutboxEvent.id)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        across_tenants(update(OutboxEvent))
        .where(OutboxEvent.id.in_(waiting.scalar_subquery()), OutboxEvent.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .returning(OutboxEvent)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(statement)).scalars())


async def _subscriptions_of(session: AsyncSession, tenant_ids: Sequence[str]) -> list[WebhookSubscription]:
    statement = across_tenants(select(WebhookSubscription)).where(
        WebhookSubscription.tenant_id.in_(tenant_ids)
    )
    return list((await session.execute(statement)).scalars())


async def fan_out_events(session: AsyncSession, now: datetime, limit: int = FAN_OUT_BATCH) -> int:
    """Claims up to `limit` undispatched events and creates their deliveries; returns how many events."""
    events = await claim_undispatched_events(session, now, limit)
    if not events:
        return 0
    by_tenant: dict[str, list[WebhookSubscription]] = {}
    for subscription in await _subscriptions_of(session, sorted({e.tenant_id for e in events})):
        by_tenant.setdefault(subscription.tenant_id, []).append(subscription)
    deliveries: list[dict[str, Any]] = []
    for event in events:
        for delivery in deliveries_for(event, by_tenant.get(event.tenant_id, ()), now):
            deliveries.append(_row(delivery))
    if deliveries:
        # A bulk insert: many rows per statement, without an ORM unit of work for each.
        await session.execute(insert(WebhookDelivery), deliveries)
    return len(events)


def _row(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "tenant_id": delivery.tenant_id,
        "subscription_id": delivery.subscription_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "message_id": delivery.message_id,
        "payload": delivery.payload,
        "status": delivery.status.value,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "next_trigger": delivery.next_trigger.value,
        "scheduled_attempts": delivery.scheduled_attempts,
        "locked_until": None,
        "lease_id": None,
    }
