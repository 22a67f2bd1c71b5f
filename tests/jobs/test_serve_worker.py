"""`portal serve`'s in-process worker runs queued jobs: a version published by another process (the
command line) is scanned without anyone running `portal scan`."""

import asyncio
import time
import uuid

import httpx

from portal.app import create_app
from portal.runtime import Runtime
from tests.catalog.factories import grant, publish
from tests.factories import make_caller
from tests.live_server import serve


async def test_the_api_process_scans_what_another_process_published(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"run_worker": True})
    serving = Runtime.build(settings, rate_limit_namespace=uuid.uuid4().hex)
    async with httpx.AsyncClient() as setup:
        caller = await make_caller(serving, setup)
    await serving.db.dispose()  # the server's loop opens its own connections

    def latest_scan(base_url: str, image_id: str) -> object:
        with httpx.Client(base_url=base_url, headers=caller.headers) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                version = client.get(f"/api/docker-images/{image_id}").json()["versions"][0]
                if version["latestScan"] is not None:
                    return version["latestScan"]
                time.sleep(0.1)
            return None

    with serve(create_app(runtime=serving)) as base_url:
        published = await publish(runtime, "published-elsewhere")  # this test's runtime: another process
        await grant(runtime, caller.tenant, "published-elsewhere")
        latest = await asyncio.to_thread(latest_scan, base_url, published.image.id)
    assert isinstance(latest, dict) and latest["id"] and latest["total"] == 0
