"""A tenant's use cases on webhooks: subscriptions, their secrets, deliveries, redelivery and tests."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.audit.service import DetailValue
from portal.auth.actor import Actor
from portal.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from portal.events import EventType, record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.encryption import SecretBox
from portal.kit.pagination import PageParams, Slice
from portal.webhooks.events import WebhookTest
from portal.webhooks.fanout import deliveries_for
from portal.webhooks.models import (
    AttemptTrigger,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from portal.webhooks.repository import WebhookRepository
from portal.webhooks.schemas import SubscriptionCreate, SubscriptionUpdate
from portal.webhooks.signing import new_secret
from portal.webhooks.targets import TargetRefused, check_url
from portal.webhooks.wakeup import request_delivery

ROTATION_OVERLAP = timedelta(hours=24)
TEST_MESSAGE = "This is a test delivery from the portal."


@dataclass(frozen=True)
class Upserted:
    subscription: WebhookSubscription
    created: bool
    # The signing secret in clear, when the subscription was created: shown this once, stored encrypted.
    secret: str | None = None


@dataclass(frozen=True)
class Rotated:
    subscription: WebhookSubscription
    secret: str


@dataclass(frozen=True)
class DeliveryWithAttempts:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


class WebhookService:
    def __init__(
        self, session: AsyncSession, allow_private: bool, secrets: SecretBox, clock: Clock = utcnow
    ) -> None:
        self.session = session
        self.repository = WebhookRepository(session)
        self.allow_private = allow_private
        self.secrets = secrets
        self.clock = clock

    async def list(self, tenant_id: str, page: PageParams) -> Slice[WebhookSubscription]:
        return await self.repository.subscriptions(tenant_id, page)

    async def get(self, tenant_id: str, subscription_id: str) -> WebhookSubscription:
        subscription = await self.repository.subscription(tenant_id, subscription_id)
        if subscription is None:
            raise NotFound("No such webhook.")
        return subscription

    async def upsert(self, actor: Actor, body: SubscriptionCreate) -> Upserted:
        """Creates the subscription, or updates the one this tenant already has for exactly this URL."""
        tenant_id = actor.tenant_id
        self._check_url(body.url)
        events = _unique_events(body.events)
        now = self.clock()
        existing = await self.repository.subscription_by_url(tenant_id, body.url)
        if existing is None:
            secret = new_secret()
            subscription = _new_subscription(tenant_id, body, events, self.secrets.encrypt(secret), now)
            try:
                async with self.session.begin_nested():
                    self.repository.add(subscription)
                    await self.session.flush()
                self._audit(actor, AuditAction.WEBHOOK_CREATED, subscription, {"events": events})
                return Upserted(subscription, created=True, secret=secret)
            except IntegrityError:
                # Another request created this URL meanwhile: update its subscription, as if it came first.
                existing = await self.repository.subscription_by_url(tenant_id, body.url)
                if existing is None:
                    raise
        existing.events = events
        if "description" in body.model_fields_set:
            existing.description = body.description
        if "active" in body.model_fields_set:
            _set_active(existing, body.active)
        existing.updated_at = now
        await self.session.flush()
        self._audit(actor, AuditAction.WEBHOOK_UPDATED, existing, {"events": events})
        return Upserted(existing, created=False)

    async def update(
        self, actor: Actor, subscription_id: str, body: SubscriptionUpdate
    ) -> WebhookSubscription:
        tenant_id = actor.tenant_id
        subscription = await self.get(tenant_id, subscription_id)
        given = body.model_fields_set
        nulls = [
            name for name in ("url", "events", "active") if name in given and getattr(body, name) is None
        ]
        if nulls:
            raise ValidationFailed(
                details=[
                    ErrorDetail(path=[name], message="may be left out, but not null", code="invalid_type")
                    for name in nulls
                ]
            )
        if body.url is not None and body.url != subscription.url:
            self._check_url(body.url)
            if await self.repository.subscription_by_url(tenant_id, body.url) is not None:
                raise Conflict(f"Another webhook of this tenant already delivers to {body.url}.")
            subscription.url = body.url
        if body.events is not None:
            subscription.events = _unique_events(body.events)
        if "description" in given:
            subscription.description = body.description
        if body.active is not None:
            _set_active(subscription, body.active)
        subscription.updated_at = self.clock()
        await self._flush_unique_url(subscription.url)
        self._audit(actor, AuditAction.WEBHOOK_UPDATED, subscription, {"changed": sorted(given)})
        return subscription

    async def delete(self, actor: Actor, subscription_id: str) -> None:
        subscription = await self.get(actor.tenant_id, subscription_id)
        await self.repository.delete(subscription)
        await self.session.flush()
        self._audit(actor, AuditAction.WEBHOOK_DELETED, subscription)

    async def rotate_secret(self, actor: Actor, subscription_id: str) -> Rotated:
        """A new secret; the one it replaces keeps signing for 24 hours (a rotation within those hours
        drops the oldest, so at most two secrets sign at once)."""
        subscription = await self.get(actor.tenant_id, subscription_id)
        now = self.clock()
        secret = new_secret()
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = now + ROTATION_OVERLAP
        subscription.secret = self.secrets.encrypt(secret)
        subscription.updated_at = now
        await self.session.flush()
        self._audit(actor, AuditAction.WEBHOOK_SECRET_ROTATED, subscription)
        return Rotated(subscription, secret)

    async def deliveries(
        self, tenant_id: str, subscription_id: str, page: PageParams
    ) -> Slice[DeliveryWithAttempts]:
        await self.get(tenant_id, subscription_id)
        found = await self.repository.deliveries(tenant_id, subscription_id, page)
        attempts = await self.repository.attempts(tenant_id, [d.id for d in found.items])
        return found.map(lambda delivery: DeliveryWithAttempts(delivery, attempts[delivery.id]))

    async def redeliver(self, actor: Actor, subscription_id: str, delivery_id: str) -> DeliveryWithAttempts:
        """Queues the delivery again, same body and `webhook-id`, on a fresh retry schedule."""
        tenant_id = actor.tenant_id
        await self.get(tenant_id, subscription_id)
        delivery = await self.repository.delivery(tenant_id, subscription_id, delivery_id)
        if delivery is None:
            raise NotFound("No such delivery.")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = self.clock()
        delivery.next_trigger = AttemptTrigger.MANUAL
        delivery.scheduled_attempts = 0
        # An attempt in flight must not overwrite this with its own outcome: without its lease it is
        # recorded as an attempt but no longer moves the delivery on.
        delivery.locked_until = None
        delivery.lease_id = None
        await self.session.flush()
        request_delivery(self.session)
        record_audit(
            self.session,
            actor,
            AuditAction.WEBHOOK_REDELIVERED,
            AuditTarget("webhook_delivery", delivery.id),
            details={"webhookId": subscription_id},
            clock=self.clock,
        )
        attempts = await self.repository.attempts(tenant_id, [delivery.id])
        return DeliveryWithAttempts(delivery, attempts[delivery.id])

    async def send_test(self, actor: Actor, subscription_id: str) -> WebhookDelivery:
        """Records a `webhook.test` event in the outbox and fans it out to this subscription at once,
        so the answer can name the delivery; the worker sends and retries it like any other."""
        tenant_id = actor.tenant_id
        subscription = await self.get(tenant_id, subscription_id)
        now = self.clock()
        test = WebhookTest(webhook_id=subscription.id, message=TEST_MESSAGE)
        event = record_event(self.session, tenant_id, test, clock=lambda: now)
        await self.session.flush()
        (delivery,) = deliveries_for(event, [subscription], now)
        event.dispatched_at = now
        self.repository.add(delivery)
        await self.session.flush()
        request_delivery(self.session)
        self._audit(actor, AuditAction.WEBHOOK_TESTED, subscription, {"deliveryId": delivery.id})
        return delivery

    def _audit(
        self,
        actor: Actor,
        action: AuditAction,
        subscription: WebhookSubscription,
        details: dict[str, DetailValue] | None = None,
    ) -> None:
        # Only the host: a receiver's path or query may itself be a credential (a chat service's hook URL).
        target = AuditTarget("webhook", subscription.id, urlsplit(subscription.url).hostname)
        record_audit(self.session, actor, action, target, details=details, clock=self.clock)

    def _check_url(self, url: str) -> None:
        try:
            check_url(url, self.allow_private)
        except TargetRefused as refused:
            raise ValidationFailed(
                f"The webhook URL is refused: {refused.reason}.",
                details=[ErrorDetail(path=["url"], message=refused.reason, code="invalid_format")],
            ) from None

    async def _flush_unique_url(self, url: str) -> None:
        try:
            await self.session.flush()
        except IntegrityError:  # two requests creating the same URL at once
            raise Conflict(f"Another webhook of this tenant already delivers to {url}.") from None


def _new_subscription(
    tenant_id: str, body: SubscriptionCreate, events: list[str], stored_secret: str, now: datetime
) -> WebhookSubscription:
    return WebhookSubscription(
        tenant_id=tenant_id,
        url=body.url,
        events=events,
        description=body.description,
        active=body.active,
        disabled_reason=None,
        secret=stored_secret,
        previous_secret=None,
        previous_secret_expires_at=None,
        created_at=now,
        updated_at=now,
    )


def _set_active(subscription: WebhookSubscription, active: bool) -> None:
    subscription.active = active
    # The reason explains why the portal disabled it; it no longer applies once someone decides.
    subscription.disabled_reason = None


def _unique_events(events: list[EventType]) -> list[str]:
    seen: set[str] = set()
    duplicates: list[ErrorDetail] = []
    for index, event in enumerate(events):
        if event.value in seen:
            duplicates.append(
                ErrorDetail(
                    path=["events", index], message=f"{event.value} is listed twice", code="invalid_format"
                )
            )
        seen.add(event.value)
    if duplicates:
        raise ValidationFailed("Each event type may be listed once.", details=duplicates)
    return [event.value for event in events]
