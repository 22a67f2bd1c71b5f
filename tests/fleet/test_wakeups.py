"""Who a commit wakes: its own runtime's workers at once; another runtime (another process) only through
PostgreSQL's LISTEN/NOTIFY, and only once the transaction commits."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from portal.config import Settings
from portal.events import EventType
from portal.jobs.queue import NewJob, enqueue
from portal.runtime import Runtime
from tests.factories import make_tenant
from tests.webhooks.factories import queue_event


class Woken:
    def __init__(self) -> None:
        self.count = 0
        self.event = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    async def within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:
            return False
        return True


@pytest.fixture
async def other_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A second runtime on the same database: what another process would be."""
    other = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    await other.start()
    yield other
    await other.close()


async def _listening(runtime: Runtime, woken: Woken) -> None:
    """Waits until a started runtime hears other processes (nothing to wait for on SQLite)."""
    if runtime.listener is None:
        assert runtime.db.is_sqlite
        return
    await asyncio.wait_for(runtime.listener.listening.wait(), 10)
    await asyncio.sleep(0.05)  # the wake-up every signal gets on connecting
    woken.event.clear()


async def test_an_outbox_commit_wakes_this_runtime_at_once_and_another_only_on_postgresql(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    tenant = await make_tenant(runtime)
    here, there = Woken(), Woken()
    stop_here = runtime.outbox_signal.listen(here)
    stop_there = other_runtime.outbox_signal.listen(there)
    try:
        await _listening(other_runtime, there)
        await queue_event(runtime, tenant, EventType.WEBHOOK_TEST)

        assert await here.within(1)
        if runtime.db.is_sqlite:
            assert not await there.within(0.5)  # no channel between processes on SQLite: polling
        else:
            assert await there.within(5)
    finally:
        stop_here()
        stop_there()


async def test_a_rolled_back_job_wakes_nobody_anywhere(runtime: Runtime, other_runtime: Runtime) -> None:
    here, there = Woken(), Woken()
    stop_here = runtime.job_signal.listen(here)
    stop_there = other_runtime.job_signal.listen(there)
    try:
        await _listening(other_runtime, there)
        with pytest.raises(RuntimeError):
            async with runtime.db.transaction() as session:
                await enqueue(session, [NewJob(kind="test")], runtime.clock())
                raise RuntimeError("rolled back")
        assert not await here.within(0.3)
        assert not await there.within(0.7)

        async with runtime.db.transaction() as session:
            await enqueue(session, [NewJob(kind="test")], runtime.clock())
        assert await here.within(1)
        if runtime.db.is_sqlite:
            assert not await there.within(0.5)
        else:
            assert await there.within(5)
    finally:
        stop_here()
        stop_there()
