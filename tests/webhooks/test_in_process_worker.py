"""The worker `portal serve` runs inside the API process, and what `/api/status` says about workers."""

import asyncio
import time
import uuid
from dataclasses import replace

import httpx

from portal.app import create_app
from portal.runtime import Runtime
from portal.users.models import Role
from portal.webhooks import heartbeat
from tests.factories import make_caller
from tests.live_server import serve
from tests.webhooks.conftest import ScriptedReceiver


async def test_the_api_process_delivers_its_own_webhooks(
    runtime: Runtime, scripted_receiver: ScriptedReceiver
) -> None:
    settings = runtime.settings.model_copy(update={"run_worker": True, "webhook_allow_private": True})
    serving = Runtime.build(settings, rate_limit_namespace=uuid.uuid4().hex)
    async with httpx.AsyncClient() as setup:
        caller = await make_caller(serving, setup, Role.ADMIN)
    await serving.db.dispose()  # the server's loop opens its own connections

    def exercise(base_url: str) -> tuple[str, int, str]:
        with httpx.Client(base_url=base_url, headers=caller.headers) as client:
            worker = client.get("/api/status").json()["checks"]["worker"]
            hook = client.post(
                "/api/webhooks", json={"url": scripted_receiver.url(), "events": ["scan.completed"]}
            )
            client.post(f"/api/webhooks/{hook.json()['id']}/test")
            received = len(scripted_receiver.wait_for_requests(1))
            deadline = time.monotonic() + 20
            while (status := client.get(f"/api/webhooks/{hook.json()['id']}/deliveries").json()["items"][0])[
                "status"
            ] != "succeeded" and time.monotonic() < deadline:
                time.sleep(0.05)
            return worker, received, status["status"]

    with serve(create_app(runtime=serving)) as base_url:
        worker, received, status = await asyncio.to_thread(exercise, base_url)
    assert (worker, received, status) == ("running", 1, "succeeded")


async def test_status_reports_workers_of_other_processes(runtime: Runtime, client: httpx.AsyncClient) -> None:
    async def state() -> str:
        checks: dict[str, str] = (await client.get("/api/status")).json()["checks"]
        return checks["worker"]

    assert await state() == "not_running"
    started = runtime.clock()
    async with runtime.db.transaction() as session:
        await heartbeat.beat(session, "w-1", started, started)
    assert await state() == "running"

    later = replace(runtime, clock=lambda: started + heartbeat.FRESH_FOR * 2)
    async with later.db.sessions() as session:
        assert await heartbeat.worker_state(session, later.clock()) == "stopped"
    async with runtime.db.transaction() as session:
        await heartbeat.forget(session, "w-1")
    assert await state() == "not_running"
