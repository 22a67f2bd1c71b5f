"""Claiming due deliveries under a lease, and recording what their attempts did.

A claim is one `WITH due AS MATERIALIZED (SELECT ... FOR UPDATE SKIP LOCKED) UPDATE ... WHERE id IN due
RETURNING` that sets `locked_until = now + timeout + margin` and a fresh `lease_id`, committed before
anything is sent:
- PostgreSQL: two workers' claims skip each other's locked rows, and a row leased by a committed claim no
  longer matches the re-checked `locked_until` condition, so no attempt is made by two workers at once.
- SQLite: `FOR UPDATE` does not exist; the statement is a write, so it takes the database's write lock
  before it reads, and claims run one at a time (a single claimer).
A worker killed mid-delivery leaves its rows leased; once `locked_until` passes, any worker claims them
again. Recording an outcome only changes the delivery while the lease is still the recorder's own.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast, overload

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.clock import rfc3339
from portal.kit.encryption import SecretBox
from portal.kit.ids import new_id
from portal.kit.tenancy import across_tenants
from portal.webhooks.models import (
    AttemptTrigger,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from portal.webhooks.schedule import RetrySchedule
from portal.webhooks.sending import AttemptResult

_DELIVERIES = cast(Table, WebhookDelivery.__table__)


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: str
    tenant_id: str
    subscription_id: str
    message_id: str
    body: bytes
    trigger: AttemptTrigger
    scheduled_attempts: int
    lease_id: str
    url: str
    secrets: list[str]


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    delivery: ClaimedDelivery
    at: datetime
    result: AttemptResult


async def claim_due_deliveries(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int, secrets: SecretBox
) -> list[ClaimedDelivery]:
    """Due deliveries, leased to the caller, each with its subscription's signing secrets decrypted."""
    lease_id = new_id()
    free = or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now)
    due = (
        select(WebhookDelivery.id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            free,
            # An inactive subscription's deliveries wait until it is active again.
            WebhookSubscription.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    # A CTE, not `IN (subquery)`: PostgreSQL may run a LIMIT subquery inside an UPDATE more than once,
    # each run skipping other rows, and so claim more than `limit`; a materialized CTE runs once.
    chosen = due.cte("due_deliveries")
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        chosen = chosen.prefix_with("MATERIALIZED")
    # The worker's own claim spans every tenant's due deliveries.
    claim = (
        across_tenants(update(WebhookDelivery))
        .where(WebhookDelivery.id.in_(select(chosen.c.id)), free)
        .values(locked_until=now + lease, lease_id=lease_id)
        .returning(
            WebhookDelivery.id,
            WebhookDelivery.tenant_id,
            WebhookDelivery.subscription_id,
            WebhookDelivery.message_id,
            WebhookDelivery.payload,
            WebhookDelivery.next_trigger,
            WebhookDelivery.scheduled_attempts,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(claim)).all()
    if not rows:
        return []
    subscriptions = await _subscriptions(session, {row.subscription_id for row in rows})
    claimed: list[ClaimedDelivery] = []
    for row in rows:
        subscription = subscriptions[row.subscription_id]
        claimed.append(
            ClaimedDelivery(
                id=row.id,
                tenant_id=row.tenant_id,
                subscription_id=row.subscription_id,
                message_id=row.message_id,
                body=row.payload.encode(),
                trigger=AttemptTrigger(row.next_trigger),
                scheduled_attempts=row.scheduled_attempts,
                lease_id=lease_id,
                url=subscription.url,
                secrets=[secrets.decrypt(stored) for stored in subscription.signing_secrets(now)],
            )
        )
    return claimed


async def _subscriptions(session: AsyncSession, ids: set[str]) -> dict[str, WebhookSubscription]:
    statement = across_tenants(select(WebhookSubscription)).where(WebhookSubscription.id.in_(sorted(ids)))
    return {s.id: s for s in (await session.execute(statement)).scalars()}


_RECORD = across_tenants(
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("b_id"), _DELIVERIES.c.lease_id == bindparam("b_lease"))
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        next_trigger=AttemptTrigger.SCHEDULED.value,
        scheduled_attempts=bindparam("b_made"),
        locked_until=None,
        lease_id=None,
    )
)


async def record_outcomes(
    session: AsyncSession,
    outcomes: Sequence[AttemptOutcome],
    now: datetime,
    schedule: RetrySchedule,
    rng: random.Random | None = None,
) -> None:
    """Stores every attempt and moves each delivery on: succeeded, retried later, or failed. A 410 also
    disables the subscription."""
    if not outcomes:
        return
    updates: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    gone: dict[str, datetime] = {}
    for outcome in outcomes:
        delivery, result = outcome.delivery, outcome.result
        made = delivery.scheduled_attempts + 1
        status, next_at = DeliveryStatus.PENDING, None
        if result.succeeded:
            status = DeliveryStatus.SUCCEEDED
        elif result.gone:
            status = DeliveryStatus.FAILED
            gone[delivery.subscription_id] = outcome.at
        else:
            delay = schedule.next_delay(made, rng, result.retry_after)
            if delay is None:
                status = DeliveryStatus.FAILED
            else:
                next_at = now + delay
        updates.append(
            {
                "b_id": delivery.id,
                "b_lease": delivery.lease_id,
                "b_status": status.value,
                "b_next": next_at,
                "b_made": made,
            }
        )
        attempts.append(
            {
                "id": new_id(),
                "tenant_id": delivery.tenant_id,
                "delivery_id": delivery.id,
                "at": outcome.at,
                "trigger": delivery.trigger.value,
                "http_status": result.http_status,
                "latency_ms": result.latency_ms,
                "error": _storable(result.error),
                "response_body": _storable(result.response_body),
            }
        )
    # The update comes first: on SQLite a transaction that starts by writing holds the lock throughout.
    await session.execute(_RECORD, updates)
    # A subscription deleted while its attempt was in flight took the delivery with it; that attempt's
    # row would break the foreign key and fail the whole batch on every retry. The key-share lock keeps
    # the surviving deliveries from being deleted before the insert (PostgreSQL; SQLite is one writer).
    surviving = await _existing_deliveries(session, [a["delivery_id"] for a in attempts])
    attempts = [a for a in attempts if a["delivery_id"] in surviving]
    if attempts:
        await session.execute(insert(WebhookAttempt), attempts)
    for subscription_id, at in gone.items():
        await session.execute(
            across_tenants(update(WebhookSubscription))
            .where(WebhookSubscription.id == subscription_id)
            .values(
                active=False,
                disabled_reason=(
                    f"The endpoint answered 410 Gone at {rfc3339(at.replace(microsecond=0))}; "
                    'deliveries stopped. Re-enable with PUT {"active": true}.'
                ),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )


@overload
def _storable(text: str) -> str: ...
@overload
def _storable(text: None) -> None: ...
def _storable(text: str | None) -> str | None:
    # The receiver chooses these bytes, and PostgreSQL text refuses NUL: one such answer would fail
    # its whole batch on every retry.
    return text.replace("\x00", "\ufffd") if text is not None else None


async def _existing_deliveries(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    statement = (
        across_tenants(select(WebhookDelivery.id))
        .where(WebhookDelivery.id.in_(sorted(set(ids))))
        .with_for_update(key_share=True)
    )
    return set((await session.execute(statement)).scalars())


async def delivery_backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """Deliveries still to be made (first attempts and retries, every tenant's, of active subscriptions:
    an inactive one's wait for it), and the earliest time among those due now (for the metrics)."""
    due_at = case((WebhookDelivery.next_attempt_at <= now, WebhookDelivery.next_attempt_at))
    statement = across_tenants(
        select(func.count(WebhookDelivery.id), func.min(due_at))
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookSubscription.active.is_(True))
    )
    count, oldest_due = (await session.execute(statement)).one()
    return int(count), oldest_due
