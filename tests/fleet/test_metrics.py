"""`GET /metrics`: hidden without PORTAL_METRICS_TOKEN, refused without it, and once presented, the
figures an operator watches, counted by route template (never by raw path)."""

from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.config import Settings
from portal.events import EventType
from portal.jobs.queue import NewJob, enqueue
from portal.runtime import Runtime
from tests.catalog.factories import grant, publish
from tests.conftest import client_for, make_settings
from tests.factories import make_caller, make_tenant
from tests.webhooks.factories import queue_event

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, metrics_token=TOKEN, login_rate_limit="1/minute")


def _value(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{wanted}}} not in the metrics:\n{text}")


async def test_without_the_setting_the_route_does_not_exist(tmp_path: Path, database_url: str) -> None:
    runtime = Runtime.build(make_settings(tmp_path, database_url))
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            response = await client.get("/metrics", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 404
    finally:
        await runtime.close()


async def test_only_the_bearer_token_opens_it(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    counted = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert 'route="/metrics",status="401"' in counted
    assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})).status_code == 401
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


async def test_the_figures_an_operator_watches(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime, "python")
    await grant(runtime, caller.tenant, "python")
    detail = f"/api/docker-images/{published.image.id}"
    for _ in range(3):
        assert (await client.get(detail, headers=caller.headers)).status_code == 200
    await client.get("/api/no-such-route/123")
    tenant = await make_tenant(runtime)
    login = {"email": "nobody@example.com", "password": "wrong"}
    for _ in range(2):
        await client.post("/api/auth/login", headers={"X-Tenant": tenant.slug}, json=login)
    await queue_event(runtime, tenant, EventType.WEBHOOK_TEST)
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob(kind="test")], runtime.clock())

    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text

    route = "/api/docker-images/{image_id}"
    assert _value(text, "portal_http_requests_total", method="GET", route=route, status="200") == 3
    assert _value(text, "portal_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert published.image.id not in text  # templates, never raw paths
    assert _value(text, "portal_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert _value(text, "portal_login_refusals_total", flow="login") == 1
    assert _value(text, "portal_read_cache_lookups_total", result="hit") >= 2
    assert _value(text, "portal_outbox_pending_events") >= 1
    assert _value(text, "portal_outbox_lag_seconds") >= 0
    assert _value(text, "portal_job_queue_depth", kind="test") == 1
    assert "portal_webhook_deliveries_total" in text or "portal_webhook_deliveries" in text
    assert "portal_job_duration_seconds" in text and "portal_import_duration_seconds" in text
