"""The read cache (kit.readcache) as tenants meet it: repeated reads come from memory, a change in the
same process shows at once, one in another process within the bound (at once on PostgreSQL, which
notifies), a rolled-back change changes nothing, and one tenant's answer never reaches another."""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.config import Settings
from portal.kit.readcache import CATALOG, CacheRevision, changed
from portal.runtime import Runtime
from tests.catalog.factories import grant, publish, revoke, unpublish
from tests.conftest import client_for, make_settings
from tests.factories import make_caller

BOUND = 0.5


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, read_cache_seconds=BOUND)


@pytest.fixture
async def elsewhere(settings: Settings) -> AsyncIterator[Runtime]:
    """Another runtime on the same database, as another process is; it hears notifications."""
    other = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    await other.start()
    if other.listener is not None:
        await asyncio.wait_for(other.listener.listening.wait(), 10)
    yield other
    await other.close()


async def _names(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/api/docker-images", headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_repeated_reads_are_hits_and_a_change_here_shows_at_once(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime, "python")
    await grant(runtime, caller.tenant, "python")

    assert await _names(client, caller.headers) == ["python"]
    hits = runtime.read_cache.stats.hits
    assert await _names(client, caller.headers) == ["python"]
    assert runtime.read_cache.stats.hits == hits + 1

    await publish(runtime, "nginx")
    await grant(runtime, caller.tenant, "nginx")
    assert await _names(client, caller.headers) == ["nginx", "python"]
    await revoke(runtime, caller.tenant, "nginx")
    assert await _names(client, caller.headers) == ["python"]
    await unpublish(runtime, "python", published.version.digest)
    assert await _names(client, caller.headers) == []


async def test_a_change_in_another_process_shows_within_the_bound(
    runtime: Runtime, client: httpx.AsyncClient, elsewhere: Runtime
) -> None:
    caller = await make_caller(runtime, client)
    await publish(runtime, "python")
    await grant(runtime, caller.tenant, "python")
    assert await _names(client, caller.headers) == ["python"]

    await revoke(elsewhere, caller.tenant, "python")
    changed_at = time.monotonic()
    while await _names(client, caller.headers) != []:
        assert time.monotonic() - changed_at < BOUND + 0.5, "stale past the bound"
        await asyncio.sleep(0.02)


async def test_on_postgresql_another_process_is_told_at_once(tmp_path: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no notifications: the bound applies")
    settings = make_settings(tmp_path, database_url, read_cache_seconds=3600)
    serving = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    writer = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    await serving.start()
    try:
        assert serving.listener is not None
        await asyncio.wait_for(serving.listener.listening.wait(), 10)
        async with client_for(create_app(runtime=serving)) as client:
            caller = await make_caller(serving, client)
            await publish(writer, "python")
            await grant(writer, caller.tenant, "python")
            assert await _names(client, caller.headers) == ["python"]

            await revoke(writer, caller.tenant, "python")
            deadline = time.monotonic() + 5  # far below the hour the bound would allow
            while await _names(client, caller.headers) != []:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
    finally:
        await writer.close()
        await serving.close()


async def test_a_rolled_back_change_bumps_nothing(runtime: Runtime) -> None:
    async def revision() -> int | None:
        async with runtime.db.sessions() as session:
            found = await session.execute(
                select(CacheRevision.revision).where(CacheRevision.topic == CATALOG.name)
            )
            return found.scalar_one_or_none()

    async with runtime.db.transaction() as session:
        changed(session, CATALOG)
    before = await revision()
    with pytest.raises(RuntimeError):
        async with runtime.db.transaction() as session:
            changed(session, CATALOG)
            raise RuntimeError("rolled back")
    assert await revision() == before
    async with runtime.db.transaction() as session:
        changed(session, CATALOG)
    assert await revision() == (before or 0) + 1


async def test_an_answer_never_reaches_another_tenant(runtime: Runtime, client: httpx.AsyncClient) -> None:
    entitled = await make_caller(runtime, client)
    other = await make_caller(runtime, client)
    published = await publish(runtime, "python")
    await grant(runtime, entitled.tenant, "python")
    detail = f"/api/docker-images/{published.image.id}"
    history = f"{detail}/versions/{published.version.id}/scan-history"
    sbom = f"{detail}/versions/{published.version.id}/sbom/spdx"

    for _ in range(2):  # the second round is served from the cache for the entitled tenant
        assert await _names(client, entitled.headers) == ["python"]
        assert (await client.get(detail, headers=entitled.headers)).status_code == 200
        assert (await client.get(history, headers=entitled.headers)).status_code == 200
        assert (await client.get(sbom, headers=entitled.headers)).status_code == 200

        assert await _names(client, other.headers) == []
        assert (await client.get(detail, headers=other.headers)).status_code == 404
        assert (await client.get(history, headers=other.headers)).status_code == 404
        assert (await client.get(sbom, headers=other.headers)).status_code == 404


async def test_sbom_downloads_and_their_304s_follow_a_revoke_at_once(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime, "python")
    await grant(runtime, caller.tenant, "python")
    url = f"/api/docker-images/{published.image.id}/versions/{published.version.id}/sbom/cyclonedx"
    first = await client.get(url, headers=caller.headers)
    again = await client.get(url, headers=caller.headers)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    etag = first.headers["etag"]
    assert (await client.get(url, headers={**caller.headers, "If-None-Match": etag})).status_code == 304

    await revoke(runtime, caller.tenant, "python")

    assert (await client.get(url, headers=caller.headers)).status_code == 404
    assert (await client.get(url, headers={**caller.headers, "If-None-Match": etag})).status_code == 404


def test_a_stale_caller_never_spins_on_a_read_that_has_just_finished(settings: Settings) -> None:
    """Under load, a request can run in the same turn of the event loop in which the shared read of the
    revisions finished, before that read's done callback has forgotten it. If a change was heard of
    during the read, the read is too old for the caller, and waiting on it again returns at once without
    yielding: the caller spun for good and the process stopped answering (one API process in two fleet
    runs of three). The state is set up by hand, since no test can time a turn of the loop; the check
    runs on a loop of its own in a thread, so that a spinning loop fails the test instead of hanging it.
    """

    async def scenario() -> tuple[int, ...]:
        runtime = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
        try:
            cache = runtime.read_cache
            await cache.revisions((CATALOG,))
            finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            finished.set_result(None)
            cache._reading = finished  # a read that has finished, its done callback not run yet
            cache.expire()  # a change heard of while it read
            return await cache.revisions((CATALOG,))
        finally:
            await runtime.close()

    answered: list[tuple[int, ...]] = []
    thread = threading.Thread(target=lambda: answered.append(asyncio.run(scenario())), daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the caller spun on the finished read: its event loop never yielded"
    assert answered == [(0,)]
