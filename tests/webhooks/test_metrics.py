"""What `GET /metrics` says of webhook delivery, through the endpoint and a real receiver: deliveries
still to be made and how long the oldest due one has waited, then attempts counted by outcome."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from portal.config import Settings
from portal.events import EventType
from portal.runtime import Runtime
from portal.webhooks.worker import DeliveryWorker
from tests.conftest import make_settings
from tests.factories import make_tenant
from tests.fleet.test_metrics import TOKEN, metric
from tests.webhooks.conftest import LoopbackReceiver
from tests.webhooks.factories import make_subscription, queue_event


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        metrics_token=TOKEN,
        webhook_allow_private=True,
        webhook_retry_delays=[0, 3600],
        webhook_retry_jitter=0,
    )


class Hands:
    """The runtime's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def hands() -> Hands:
    return Hands()


@pytest.fixture
async def runtime(settings: Settings, hands: Hands) -> AsyncIterator[Runtime]:
    runtime = Runtime.build(settings, clock=hands, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    yield runtime
    await runtime.close()


async def _scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return response.text


async def test_pending_deliveries_and_attempts_by_outcome(
    runtime: Runtime, client: httpx.AsyncClient, http_receiver: LoopbackReceiver, hands: Hands
) -> None:
    tenant = await make_tenant(runtime)
    for path in ("/ok", "/status/500", "/status/410"):
        await make_subscription(runtime, tenant, http_receiver.url(path), [EventType.SCAN_COMPLETED])
    await queue_event(runtime, tenant, EventType.SCAN_COMPLETED)

    before = await _scrape(client)
    assert metric(before, "portal_outbox_pending_events") == 1
    assert metric(before, "portal_webhook_deliveries_pending") == 0  # not yet fanned out

    worker = DeliveryWorker(runtime)
    assert await worker.deliver_due() == 3
    after = await _scrape(client)

    assert metric(after, "portal_outbox_pending_events") == 0
    assert metric(after, "portal_webhook_deliveries_total", outcome="succeeded") == 1
    assert metric(after, "portal_webhook_deliveries_total", outcome="failed") == 1
    assert metric(after, "portal_webhook_deliveries_total", outcome="gone") == 1
    # The 500 waits an hour for its retry; the 410 stopped its subscription, whose deliveries wait.
    assert metric(after, "portal_webhook_deliveries_pending") == 1
    assert metric(after, "portal_webhook_delivery_lag_seconds") == 0  # none is due
    assert len(http_receiver.requests) == 3

    hands.now += timedelta(seconds=3600 + 90)  # the retry has been due for a minute and a half
    due = await _scrape(client)
    assert metric(due, "portal_webhook_deliveries_pending") == 1
    assert metric(due, "portal_webhook_delivery_lag_seconds") == pytest.approx(90, abs=1)
