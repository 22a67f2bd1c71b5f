"""The scan job: one version to scan, queued by a publish or by an import that changed its advisories.

Kept apart from the scanning service so the catalog can queue a new version's scan in its publish
transaction without depending on how scans are made.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs import NewJob, enqueue

SCAN_VERSION = "scan.version"


def scan_job(version_id: str) -> NewJob:
    # one waiting scan per version: asking again while one waits is the same scan
    return NewJob(SCAN_VERSION, {"versionId": version_id}, dedup_key=f"scan:{version_id}")


async def queue_version_scans(session: AsyncSession, version_ids: Iterable[str], now: datetime) -> int:
    """Queues a scan of each version in the caller's transaction; returns how many were not waiting yet."""
    return await enqueue(session, [scan_job(version_id) for version_id in sorted(set(version_ids))], now)
