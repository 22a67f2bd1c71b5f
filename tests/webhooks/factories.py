"""Subscriptions and events made through the real services, for tests that do not go through HTTP."""

from typing import Any

from portal.catalog.events import ImageVersionPublished
from portal.events import EventPayload, EventType, record_event
from portal.kit.clock import utcnow
from portal.kit.ids import new_id
from portal.requests.events import FeatureRequestCreated, FeatureRequestUpdated, RequestAuthor
from portal.requests.models import RequestStatus, RequestType
from portal.runtime import Runtime
from portal.scanning.events import ScanCompleted, ScanSummary
from portal.tenants.models import Tenant
from portal.watches.events import CveWatchMatched, CveWatchResolved
from portal.webhooks.events import WebhookTest
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


def sample_payload(event_type: EventType, **fields: Any) -> EventPayload:
    """A payload of the type with plausible values; `fields` (snake_case) replace some of them."""
    image = {"image_id": new_id(), "image_name": "python", "version_id": new_id()}
    request = {
        "id": new_id(),
        "type": RequestType.FEATURE,
        "title": "More images",
        "status": RequestStatus.OPEN,
        "package_name": None,
        "image_id": None,
        "created_by": RequestAuthor(
            type="user", id=new_id(), name="someone@example.com", email="someone@example.com"
        ),
    }
    watch = {"watch_id": new_id(), "cve_id": "CVE-2025-0001", **image, "packages": []}
    samples: dict[EventType, EventPayload] = {
        EventType.IMAGE_VERSION_PUBLISHED: ImageVersionPublished(
            **image, tags=["3"], digest="sha256:" + "0" * 64, hardening_tags=[], published_at=utcnow()
        ),
        EventType.SCAN_COMPLETED: ScanCompleted(
            **image,
            scan_id=new_id(),
            summary=ScanSummary(critical=0, high=0, medium=0, low=0, unknown=0, total=0, fixable=0),
            new_vulnerabilities=[],
            resolved_vulnerabilities=[],
        ),
        EventType.CVE_WATCH_MATCHED: CveWatchMatched(**watch),
        EventType.CVE_WATCH_RESOLVED: CveWatchResolved(**watch),
        EventType.FEATURE_REQUEST_CREATED: FeatureRequestCreated(**request),
        EventType.FEATURE_REQUEST_UPDATED: FeatureRequestUpdated(
            **request, previous_status=RequestStatus.OPEN, comment=None
        ),
        EventType.WEBHOOK_TEST: WebhookTest(webhook_id=new_id(), message="test"),
    }
    return samples[event_type].model_copy(update=fields)


async def queue_event(runtime: Runtime, tenant: Tenant, event_type: EventType, **fields: Any) -> str:
    """Writes an event to the outbox the way features do, and commits it."""
    async with runtime.db.transaction() as session:
        payload = sample_payload(event_type, **fields)
        event = record_event(session, tenant.id, payload, clock=runtime.clock)
        await session.flush()
        return event.id
