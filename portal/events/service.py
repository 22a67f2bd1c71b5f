from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.events.models import OutboxEvent
from portal.events.payloads import EventPayload
from portal.kit.clock import Clock, utcnow
from portal.kit.tenancy import across_tenants
from portal.kit.wakeup import OUTBOX_CHANNEL, mark


def record_event(
    session: AsyncSession, tenant_id: str, payload: EventPayload, clock: Clock = utcnow
) -> OutboxEvent:
    """Adds the event to the caller's unit of work; it commits (or not) with the change."""
    event = OutboxEvent(
        tenant_id=tenant_id,
        event_type=payload.event_type.value,
        data=payload.data(),
        created_at=clock(),
        dispatched_at=None,
    )
    session.add(event)
    mark(session, OUTBOX_CHANNEL)  # wakes delivery workers when this commits
    return event


async def outbox_backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """Events committed but not yet fanned out to deliveries, every tenant's: how many, and the oldest's
    time (for the metrics)."""
    statement = across_tenants(
        select(func.count(OutboxEvent.id), func.min(OutboxEvent.created_at)).where(
            OutboxEvent.dispatched_at.is_(None)
        )
    )
    count, oldest = (await session.execute(statement)).one()
    return int(count), oldest
