"""`GET /metrics`: hidden without PORTAL_METRICS_TOKEN, refused without it, and once presented, the
figures an operator watches, counted by route template (never by raw path)."""

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.background import job_handlers
from portal.config import Settings
from portal.events import EventType
from portal.jobs.queue import NewJob, enqueue
from portal.jobs.runner import JobWorker
from portal.runtime import Runtime
from tests.catalog.factories import grant, publish
from tests.conftest import client_for, make_settings
from tests.factories import make_caller, make_tenant
from tests.fleet.test_start import PORTAL, portal_env
from tests.live_server import free_port
from tests.shared_fixtures import fixtures_dir
from tests.webhooks.factories import queue_event

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, metrics_token=TOKEN, login_rate_limit="1/minute")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a scrape; fails, showing the scrape, if it is not there."""
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
        assert (response.status_code, response.json()["error"]) == (404, "NOT_FOUND")
    finally:
        await runtime.close()


async def test_only_the_bearer_token_opens_it(client: httpx.AsyncClient) -> None:
    refused = await client.get("/metrics")
    # the API's error shape, not the console's sign-in page: a scraper reads why
    assert (refused.status_code, refused.json()["error"]) == (401, "UNAUTHORIZED")
    assert "content-security-policy" not in refused.headers
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
    assert metric(text, "portal_http_requests_total", method="GET", route=route, status="200") == 3
    assert metric(text, "portal_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert published.image.id not in text  # templates, never raw paths
    assert metric(text, "portal_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert metric(text, "portal_login_refusals_total", flow="login") == 1
    assert metric(text, "portal_read_cache_lookups_total", result="hit") >= 2
    assert metric(text, "portal_outbox_pending_events") >= 1
    assert metric(text, "portal_outbox_lag_seconds") >= 0
    assert metric(text, "portal_job_queue_depth", kind="test") == 1
    assert "portal_webhook_deliveries_total" in text or "portal_webhook_deliveries" in text
    assert "portal_job_duration_seconds" in text and "portal_import_duration_seconds" in text


async def test_jobs_and_scans_move_their_figures(runtime: Runtime, client: httpx.AsyncClient) -> None:
    await publish(runtime, "python")  # queues the scan of its version
    scrape = {"Authorization": f"Bearer {TOKEN}"}
    queued = (await client.get("/metrics", headers=scrape)).text
    assert metric(queued, "portal_job_queue_depth", kind="scan.version") == 1

    assert await JobWorker(runtime, job_handlers(runtime)).run_due() == 1

    ran = (await client.get("/metrics", headers=scrape)).text
    assert "portal_job_queue_depth{" not in ran
    duration = "portal_job_duration_seconds_count"
    assert metric(ran, duration, kind="scan.version", outcome="done") == 1


def test_processes_sharing_the_multiprocess_folder_answer_for_each_other(tmp_path: Path) -> None:
    """Two `portal serve` and an import command on one host, one PROMETHEUS_MULTIPROC_DIR: either
    server's scrape counts what the other served and what the command did."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = portal_env(
        PORTAL_DATA_DIR=str(tmp_path / "data"),
        PORTAL_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(shared),
    )
    subprocess.run([PORTAL, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    kev = fixtures_dir() / "intel" / "known_exploited_vulnerabilities.json"
    subprocess.run([PORTAL, "intel", "import", "kev", str(kev)], env=env, check=True, capture_output=True)
    first, second = free_port(), free_port()
    servers = [
        subprocess.Popen(
            [PORTAL, "serve", "--no-migrate", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in (first, second)
    ]
    try:
        for port, server in zip((first, second), servers, strict=True):
            _wait_until_serving(f"http://127.0.0.1:{port}", server)
        for _ in range(3):
            assert httpx.get(f"http://127.0.0.1:{first}/api/status").status_code == 200
        scrape = {"Authorization": f"Bearer {TOKEN}"}
        for port in (second, first):
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=scrape).text
            status = {"method": "GET", "route": "/api/status", "status": "200"}
            assert metric(text, "portal_http_requests_total", **status) == 3
            assert metric(text, "portal_import_duration_seconds_count", kind="kev") == 1
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def _wait_until_serving(base: str, server: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/api/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.1)
