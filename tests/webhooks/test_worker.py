"""The delivery worker against a real receiver on loopback, on SQLite and PostgreSQL."""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from portal.config import Settings
from portal.events import EventType
from portal.runtime import Runtime
from portal.users.models import Role
from portal.webhooks.worker import DeliveryWorker
from tests.conftest import make_settings
from tests.factories import Caller, make_caller, make_tenant
from tests.live_server import free_port
from tests.webhooks.conftest import Reply, ScriptedReceiver
from tests.webhooks.factories import make_subscription, queue_event

RETRY_DELAYS = [0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        webhook_allow_private=True,
        webhook_retry_delays=RETRY_DELAYS,
        webhook_retry_jitter=0,
        webhook_timeout_seconds=1.0,
        webhook_lease_margin_seconds=0.5,
        worker_poll_seconds=0.05,
    )


@pytest.fixture
async def admin(runtime: Runtime, client: httpx.AsyncClient) -> Caller:
    return await make_caller(runtime, client, Role.ADMIN)


async def subscribe(
    client: httpx.AsyncClient, caller: Caller, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/webhooks", headers=caller.headers, json={"url": url, "events": events or ["scan.completed"]}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(client: httpx.AsyncClient, caller: Caller, webhook_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=caller.headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def eventually(check: Callable[[], Any], within: float = 20.0) -> None:
    """Waits for an async condition; the deadline is generous, it only stops a hung test."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


@pytest.fixture
async def running_worker(runtime: Runtime) -> AsyncIterator[DeliveryWorker]:
    worker = DeliveryWorker(runtime)
    task = asyncio.create_task(worker.run())
    yield worker
    worker.stop()
    await asyncio.wait_for(task, 30)


async def test_a_delivery_verifies_with_the_official_library(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    hook = await subscribe(client, admin, scripted_receiver.url())
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED, scan_id="s1", image_name="Grüße")
    assert await DeliveryWorker(runtime).deliver_due() == 1

    (request,) = scripted_receiver.requests
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "scan.completed"
    assert (payload["data"]["scanId"], payload["data"]["imageName"]) == ("s1", "Grüße")
    assert payload["timestamp"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Portal-Webhooks/")
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(request.body.replace(b"s1", b"s2"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)

    (delivery,) = await deliveries(client, admin, hook["id"])
    assert delivery["webhookId"] == request.headers["webhook-id"]
    assert (delivery["status"], delivery["nextAttemptAt"], delivery["eventType"]) == (
        "succeeded",
        None,
        "scan.completed",
    )
    (attempt,) = delivery["attempts"]
    assert (attempt["trigger"], attempt["httpStatus"], attempt["error"], attempt["responseBody"]) == (
        "scheduled",
        204,
        None,
        "",
    )


async def test_a_stale_timestamp_is_refused(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    hook = await subscribe(client, admin, scripted_receiver.url())
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    # A worker whose clock is ten minutes behind signs what a receiver must take for a replay.
    late = replace(runtime, clock=lambda: datetime.now(UTC) - timedelta(minutes=10))
    await DeliveryWorker(late).deliver_due()
    (request,) = scripted_receiver.requests
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(hook["secret"]).verify(request.body, request.headers)


async def test_events_fan_out_to_the_subscriptions_that_want_them(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    scans = await subscribe(client, admin, scripted_receiver.url("/scans"), ["scan.completed"])
    both = await subscribe(
        client, admin, scripted_receiver.url("/both"), ["scan.completed", "cve.watch.matched"]
    )
    paused = await subscribe(client, admin, scripted_receiver.url("/paused"), ["scan.completed"])
    await client.put(f"/api/webhooks/{paused['id']}", headers=admin.headers, json={"active": False})
    other_tenant = await make_tenant(runtime)
    await make_subscription(runtime, other_tenant, scripted_receiver.url("/other"))

    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    await queue_event(runtime, admin.tenant, EventType.CVE_WATCH_MATCHED)
    await queue_event(runtime, admin.tenant, EventType.FEATURE_REQUEST_CREATED)
    assert await DeliveryWorker(runtime).deliver_due() == 3

    paths = sorted((r.path, json.loads(r.body)["type"]) for r in scripted_receiver.requests)
    assert paths == [
        ("/both", "cve.watch.matched"),
        ("/both", "scan.completed"),
        ("/scans", "scan.completed"),
    ]
    assert len(await deliveries(client, admin, scans["id"])) == 1
    assert len(await deliveries(client, admin, both["id"])) == 2
    assert await deliveries(client, admin, paused["id"]) == []
    assert await DeliveryWorker(runtime).deliver_due() == 0  # each event is fanned out once


async def test_a_failing_receiver_gets_the_event_once_it_recovers(
    client: httpx.AsyncClient,
    admin: Caller,
    scripted_receiver: ScriptedReceiver,
    running_worker: DeliveryWorker,
) -> None:
    scripted_receiver.script = [Reply(500, body=b"broken"), Reply(302, {"location": "https://elsewhere/"})]
    hook = await subscribe(client, admin, scripted_receiver.url())
    queued = (await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)).json()

    async def succeeded() -> bool:
        return (await deliveries(client, admin, hook["id"]))[0]["status"] == "succeeded"

    await eventually(succeeded)
    (delivery,) = await deliveries(client, admin, hook["id"])
    assert [(a["httpStatus"], a["error"]) for a in delivery["attempts"]] == [
        (500, "HTTP 500"),
        (302, "HTTP 302: redirects are not followed (to https://elsewhere/)"),
        (204, None),
    ]
    assert delivery["attempts"][0]["responseBody"] == "broken"
    assert {r.headers["webhook-id"] for r in scripted_receiver.requests} == {queued["webhookId"]}
    assert len({r.body for r in scripted_receiver.requests}) == 1


async def test_a_receiver_that_is_down_gets_the_event_once_it_is_up(
    client: httpx.AsyncClient, admin: Caller, running_worker: DeliveryWorker
) -> None:
    down = ScriptedReceiver(port=free_port())
    hook = await subscribe(client, admin, down.url())
    await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)

    async def refused_once() -> bool:
        return bool((await deliveries(client, admin, hook["id"]))[0]["attempts"])

    await eventually(refused_once)
    down.start()
    try:
        await eventually(
            lambda: _status_is(client, admin, hook["id"], "succeeded"),
        )
    finally:
        down.stop()
    (delivery,) = await deliveries(client, admin, hook["id"])
    first, *_, last = delivery["attempts"]
    assert first["httpStatus"] is None and "connect" in first["error"].lower()
    assert last["httpStatus"] == 204
    assert len(down.requests) == 1


async def _status_is(client: httpx.AsyncClient, caller: Caller, webhook_id: str, status: str) -> bool:
    return (await deliveries(client, caller, webhook_id))[0]["status"] == status


async def test_a_receiver_that_hangs_past_the_timeout_gets_it_again(
    client: httpx.AsyncClient,
    admin: Caller,
    scripted_receiver: ScriptedReceiver,
    running_worker: DeliveryWorker,
) -> None:
    release = threading.Event()
    scripted_receiver.script = [Reply(hold=release)]
    hook = await subscribe(client, admin, scripted_receiver.url())
    await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)
    try:
        await eventually(lambda: _status_is(client, admin, hook["id"], "succeeded"))
    finally:
        release.set()
    (delivery,) = await deliveries(client, admin, hook["id"])
    assert [(a["httpStatus"], a["error"]) for a in delivery["attempts"]] == [
        (None, "timed out after 1 s"),
        (204, None),
    ]


async def test_retry_after_is_honoured(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    scripted_receiver.script = [Reply(503, {"retry-after": "120"})]
    hook = await subscribe(client, admin, scripted_receiver.url())
    await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)
    assert await DeliveryWorker(runtime).deliver_due() == 1  # the next attempt is not due yet
    (delivery,) = await deliveries(client, admin, hook["id"])
    (attempt,) = delivery["attempts"]
    waited = datetime.fromisoformat(delivery["nextAttemptAt"]) - datetime.fromisoformat(attempt["at"])
    assert delivery["status"] == "pending" and waited >= timedelta(seconds=120)


async def test_410_disables_the_subscription(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    scripted_receiver.default = Reply(410)
    hook = await subscribe(client, admin, scripted_receiver.url())
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    await DeliveryWorker(runtime).deliver_due()

    shown = (await client.get(f"/api/webhooks/{hook['id']}", headers=admin.headers)).json()
    assert shown["active"] is False and "410" in shown["disabledReason"]
    (delivery,) = await deliveries(client, admin, hook["id"])
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 1

    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    assert await DeliveryWorker(runtime).deliver_due() == 0  # a disabled subscription gets nothing new
    assert len(scripted_receiver.requests) == 1

    enabled = await client.put(f"/api/webhooks/{hook['id']}", headers=admin.headers, json={"active": True})
    assert (enabled.json()["active"], enabled.json()["disabledReason"]) == (True, None)


async def test_the_schedule_runs_out(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    scripted_receiver.default = Reply(500)
    short = replace(runtime, settings=runtime.settings.model_copy(update={"webhook_retry_delays": [0, 0, 0]}))
    hook = await subscribe(client, admin, scripted_receiver.url())
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    assert await DeliveryWorker(short).deliver_due() == 3
    (delivery,) = await deliveries(client, admin, hook["id"])
    assert (delivery["status"], delivery["nextAttemptAt"], len(delivery["attempts"])) == ("failed", None, 3)


async def test_a_refused_target_is_a_failed_attempt_with_the_reason(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    hook = await subscribe(client, admin, scripted_receiver.url())
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    strict = replace(runtime, settings=runtime.settings.model_copy(update={"webhook_allow_private": False}))
    await DeliveryWorker(strict).deliver_due()
    (delivery,) = await deliveries(client, admin, hook["id"])
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["error"] == (
        "target refused: the URL must start with https:// (PORTAL_WEBHOOK_ALLOW_PRIVATE=true on the "
        "portal allows http://, for development)"
    )
    assert scripted_receiver.requests == []


async def test_redelivery_keeps_the_webhook_id_and_body(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    hook = await subscribe(client, admin, scripted_receiver.url())
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    await DeliveryWorker(runtime).deliver_due()
    (delivery,) = await deliveries(client, admin, hook["id"])
    redelivered = await client.post(
        f"/api/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=admin.headers
    )
    assert redelivered.status_code == 202
    await DeliveryWorker(runtime).deliver_due()

    first, second = scripted_receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["webhookId"]
    assert first.body == second.body
    Webhook(hook["secret"]).verify(second.body, second.headers)
    (after,) = await deliveries(client, admin, hook["id"])
    assert [a["trigger"] for a in after["attempts"]] == ["scheduled", "manual"]
    assert after["status"] == "succeeded"


async def test_a_test_event_goes_to_its_subscription_whatever_its_events(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    target = await subscribe(client, admin, scripted_receiver.url("/target"), ["scan.completed"])
    await subscribe(client, admin, scripted_receiver.url("/bystander"), ["webhook.test"])
    await client.post(f"/api/webhooks/{target['id']}/test", headers=admin.headers)
    await DeliveryWorker(runtime).deliver_due()
    (request,) = scripted_receiver.requests
    body = json.loads(request.body)
    assert request.path == "/target"
    assert body["type"] == "webhook.test"
    assert body["data"] == {"webhookId": target["id"], "message": "This is a test delivery from the portal."}


async def test_both_secrets_sign_for_24_hours_after_a_rotation(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    hook = await subscribe(client, admin, scripted_receiver.url())
    rotated = await client.post(f"/api/webhooks/{hook['id']}/rotate-secret", headers=admin.headers)
    old, new = hook["secret"], rotated.json()["secret"]
    await queue_event(runtime, admin.tenant, EventType.SCAN_COMPLETED)
    await DeliveryWorker(runtime).deliver_due()
    during = scripted_receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    tomorrow = datetime.now(UTC) + timedelta(hours=24, minutes=1)
    later = replace(runtime, clock=lambda: tomorrow)
    await queue_event(later, admin.tenant, EventType.SCAN_COMPLETED)
    await DeliveryWorker(later).deliver_due()
    after = scripted_receiver.requests[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    # Signed "tomorrow", so the library's clock check would refuse it; compare the signatures instead.
    assert _signature_valid(new, after.body, after.headers)
    assert not _signature_valid(old, after.body, after.headers)


def _signature_valid(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    expected = Webhook(secret).sign(
        headers["webhook-id"], datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC), body.decode()
    )
    return expected in headers["webhook-signature"].split(" ")


async def test_an_in_process_commit_wakes_the_worker_at_once(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller, scripted_receiver: ScriptedReceiver
) -> None:
    # With a poll interval of a minute, only the wake-up can deliver within the test's deadline.
    sleepy = replace(runtime, settings=runtime.settings.model_copy(update={"worker_poll_seconds": 60.0}))
    worker = DeliveryWorker(sleepy)
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _true(worker.running))
        await asyncio.sleep(0.1)  # past the worker's first look at the (empty) outbox
        hook = await subscribe(client, admin, scripted_receiver.url())
        await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)
        await eventually(lambda: _status_is(client, admin, hook["id"], "succeeded"), within=30)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)


async def _true(value: bool) -> bool:
    return value


async def test_deleting_a_subscription_mid_attempt_does_not_stall_recording(
    client: httpx.AsyncClient,
    admin: Caller,
    scripted_receiver: ScriptedReceiver,
    running_worker: DeliveryWorker,
) -> None:
    release = threading.Event()
    scripted_receiver.script = [Reply(hold=release)]
    doomed = await subscribe(client, admin, scripted_receiver.url("/doomed"))
    await client.post(f"/api/webhooks/{doomed['id']}/test", headers=admin.headers)
    try:
        await asyncio.to_thread(scripted_receiver.wait_for_requests, 1)
        deleted = await client.delete(f"/api/webhooks/{doomed['id']}", headers=admin.headers)
        assert deleted.status_code == 204
    finally:
        release.set()
    # The attempt's delivery is gone with its subscription; its outcome must not block the next ones.
    kept = await subscribe(client, admin, scripted_receiver.url("/kept"))
    await client.post(f"/api/webhooks/{kept['id']}/test", headers=admin.headers)
    await eventually(lambda: _status_is(client, admin, kept["id"], "succeeded"))


async def test_a_redelivery_asked_for_during_an_attempt_is_still_made(
    client: httpx.AsyncClient,
    admin: Caller,
    scripted_receiver: ScriptedReceiver,
    running_worker: DeliveryWorker,
) -> None:
    release = threading.Event()
    scripted_receiver.script = [Reply(hold=release)]
    hook = await subscribe(client, admin, scripted_receiver.url())
    queued = (await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)).json()
    try:
        await asyncio.to_thread(scripted_receiver.wait_for_requests, 1)
        path = f"/api/webhooks/{hook['id']}/deliveries/{queued['id']}/redeliver"
        assert (await client.post(path, headers=admin.headers)).status_code == 202
    finally:
        release.set()

    async def redelivered() -> bool:
        (delivery,) = await deliveries(client, admin, hook["id"])
        return delivery["status"] == "succeeded" and "manual" in [a["trigger"] for a in delivery["attempts"]]

    await eventually(redelivered)
    assert [r.headers["webhook-id"] for r in scripted_receiver.requests] == [queued["webhookId"]] * 2


async def test_an_answer_with_a_nul_byte_is_recorded(
    client: httpx.AsyncClient,
    admin: Caller,
    scripted_receiver: ScriptedReceiver,
    running_worker: DeliveryWorker,
) -> None:
    # PostgreSQL text cannot hold NUL; a receiver's binary answer must not make its attempt unrecordable.
    scripted_receiver.script = [Reply(500, body=b"bad\x00body")]
    hook = await subscribe(client, admin, scripted_receiver.url())
    await client.post(f"/api/webhooks/{hook['id']}/test", headers=admin.headers)
    await eventually(lambda: _status_is(client, admin, hook["id"], "succeeded"))
    (delivery,) = await deliveries(client, admin, hook["id"])
    assert [a["responseBody"] for a in delivery["attempts"]] == ["bad\ufffdbody", ""]
