"""A rescan and the worker's scans take a connection and the kept matcher's lock in one order, so they
never wait for each other when the pool runs dry."""

import asyncio
import uuid
from pathlib import Path

from portal.runtime import Runtime
from portal.scanning.tasks import rescan
from tests.catalog.factories import publish, small_sbom
from tests.conftest import make_settings

POOL_TIMEOUT = 3.0


async def test_a_rescan_and_a_worker_scan_share_one_connection_without_deadlock(
    tmp_path: Path, database_url: str, runtime: Runtime
) -> None:
    await publish(runtime, "python", sbom=small_sbom(("requests", "2.31.0")))
    narrow = Runtime.build(
        make_settings(
            tmp_path,
            database_url,
            database_pool_size=1,
            database_max_overflow=0,
            database_pool_timeout_seconds=POOL_TIMEOUT,
        ),
        rate_limit_namespace=f"test-{uuid.uuid4().hex}",
    )
    kept = narrow.kept_matcher
    worker_done = asyncio.Event()

    async def worker_scan() -> None:
        """What `ScanJobs` does: claims its jobs in a transaction, then takes the lock to scan."""
        async with narrow.db.transaction() as session:
            await session.connection()
            async with kept.lock:
                worker_done.set()

    try:
        async with kept.lock:  # a scan under way: the rescan's batch waits for it
            scanning = asyncio.create_task(rescan(narrow.db, narrow.clock, kept=kept))
            await asyncio.sleep(1.0)  # the rescan has read its targets and waits at its batch
            worker = asyncio.create_task(worker_scan())
            await asyncio.sleep(0.2)
        report = await asyncio.wait_for(scanning, POOL_TIMEOUT * 3)
        await asyncio.wait_for(worker, POOL_TIMEOUT * 3)
    finally:
        await narrow.close()
    assert worker_done.is_set()
    assert [version.image_name for version in report.versions] == ["python"]
