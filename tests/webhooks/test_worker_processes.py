"""`portal worker` as real processes: killed mid-delivery, and two of them sharing one PostgreSQL."""

import asyncio
import collections
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.config import Settings
from portal.events import EventType, record_event
from portal.kit.tenancy import across_tenants
from portal.runtime import Runtime
from portal.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests import services
from tests.conftest import make_settings
from tests.factories import make_tenant
from tests.shared_fixtures import REPO_ROOT
from tests.webhooks.conftest import Reply, ScriptedReceiver
from tests.webhooks.factories import make_subscription, queue_event, sample_payload


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": settings.effective_database_url,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": settings.effective_secret_key,
        "PORTAL_WEBHOOK_ALLOW_PRIVATE": "true",
        "PORTAL_WEBHOOK_RETRY_JITTER": "0",
        "PORTAL_WORKER_POLL_SECONDS": "0.05",
        "PORTAL_LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "portal.cli.main", "worker"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def delivery_states(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.sessions() as session:
        statement = across_tenants(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        )
        return {status: count for status, count in (await session.execute(statement)).all()}


async def wait_until_all(runtime: Runtime, status: DeliveryStatus, count: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while (await delivery_states(runtime)).get(status, 0) < count:
        assert time.monotonic() < deadline, await delivery_states(runtime)
        await asyncio.sleep(0.1)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, webhook_allow_private=True)


async def test_a_worker_killed_mid_delivery_leaves_it_to_the_next(
    runtime: Runtime, settings: Settings, scripted_receiver: ScriptedReceiver
) -> None:
    """SQLite file and PostgreSQL: kill -9 while the receiver holds the request; another worker sends it
    again once the lease (timeout + margin) has run out."""
    release = threading.Event()
    scripted_receiver.script = [Reply(hold=release)]
    tenant = await make_tenant(runtime)
    subscription = await make_subscription(runtime, tenant, scripted_receiver.url())
    await queue_event(runtime, tenant, EventType.SCAN_COMPLETED)
    env = worker_env(settings, PORTAL_WEBHOOK_TIMEOUT_SECONDS="3", PORTAL_WEBHOOK_LEASE_MARGIN_SECONDS="0.5")

    first = start_worker(env)
    try:
        held = await asyncio.to_thread(scripted_receiver.wait_for_requests, 1, 60)
        assert len(held) == 1, "the first worker never delivered"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        release.set()
        stop(first)
    assert (await delivery_states(runtime)) == {"pending": 1}  # the kill recorded nothing

    second = start_worker(env)
    try:
        await wait_until_all(runtime, DeliveryStatus.SUCCEEDED, 1)
    finally:
        stop(second)
    killed, redelivered = scripted_receiver.requests
    assert killed.headers["webhook-id"] == redelivered.headers["webhook-id"]
    assert killed.body == redelivered.body
    async with runtime.db.sessions() as session:
        attempts = (await session.execute(across_tenants(select(WebhookAttempt)))).scalars().all()
    assert [(a.http_status, a.trigger) for a in attempts] == [(204, "scheduled")]
    assert subscription.id


@pytest.fixture
async def postgres_runtime(
    tmp_path: Path, postgres_template: services.PostgresTemplate
) -> AsyncIterator[tuple[Runtime, Settings]]:
    name = await postgres_template.copy()
    settings = make_settings(tmp_path, postgres_template.url(name), webhook_allow_private=True)
    runtime = Runtime.build(settings, rate_limit_namespace=uuid.uuid4().hex)
    try:
        yield runtime, settings
    finally:
        await runtime.close()
        await postgres_template.drop(name)


class CountingReceiver(ScriptedReceiver):
    def counts(self) -> collections.Counter[str]:
        return collections.Counter(r.headers["webhook-id"] for r in self.requests)


@pytest.fixture
def counting_receiver() -> Iterator[CountingReceiver]:
    receiver = CountingReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


async def test_two_workers_on_one_postgresql_never_send_the_same_attempt(
    postgres_runtime: tuple[Runtime, Settings], counting_receiver: CountingReceiver
) -> None:
    runtime, settings = postgres_runtime
    events, subscriptions = 200, 3
    tenant = await make_tenant(runtime)
    for index in range(subscriptions):
        await make_subscription(runtime, tenant, counting_receiver.url(f"/hook/{index}"))
    # A short retry schedule: an attempt that fails for a reason of this busy machine is retried within
    # the test's patience instead of after the real schedule's five minutes.
    env = worker_env(settings, PORTAL_WEBHOOK_RETRY_DELAYS="0,0.2,0.5,1,2")
    workers = [start_worker(env) for _ in range(2)]
    try:
        async with runtime.db.transaction() as session:  # all at once, so both workers race for them
            for index in range(events):
                payload = sample_payload(EventType.SCAN_COMPLETED, scan_id=str(index))
                record_event(session, tenant.id, payload, clock=runtime.clock)
        await wait_until_all(runtime, DeliveryStatus.SUCCEEDED, events * subscriptions)
    finally:
        for worker in workers:
            stop(worker)
    for worker in workers:
        assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""
    counts = counting_receiver.counts()
    assert len(counts) == events * subscriptions
    assert set(counts.values()) == {1}
