"""The scan jobs: a full rescan run from the command line, and the queued scans the worker runs.

Both are boundaries like a request or a command: each batch commits its scans, findings and outbox events
together, so an interrupted run leaves whole batches behind and a rerun simply appends new scans.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.db import Database
from portal.jobs import ClaimedJob
from portal.kit.clock import Clock, utcnow
from portal.runtime import Runtime
from portal.scanning.index import KeptMatcher
from portal.scanning.matching import Matcher
from portal.scanning.runs import RunContext, ScanRunner, VersionScanned
from portal.watches.service import WatchService

BATCH_SIZE = 50


@dataclass
class ScanRunReport:
    feed_version: str
    versions: list[VersionScanned] = field(default_factory=list)
    skipped: int = 0
    advisories_loaded: int = 0
    components: int = 0
    seconds: float = 0.0

    @property
    def findings(self) -> int:
        return sum(v.summary["total"] for v in self.versions)

    def as_json(self) -> dict[str, Any]:
        return {
            "feedVersion": self.feed_version,
            "versions": len(self.versions),
            "skipped": self.skipped,
            "components": self.components,
            "findings": self.findings,
            "advisoriesLoaded": self.advisories_loaded,
            "seconds": round(self.seconds, 3),
            "scans": [
                {
                    "image": v.image_name,
                    "versionId": v.version_id,
                    "scanId": v.scan_id,
                    "summary": v.summary,
                    "newVulnerabilities": v.new,
                    "resolvedVulnerabilities": v.resolved,
                }
                for v in self.versions
            ],
        }


async def rescan(
    db: Database,
    clock: Clock = utcnow,
    *,
    image_name: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_plan: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    kept: KeptMatcher | None = None,
) -> ScanRunReport:
    """Scans every published version (or one image's) against the advisories as they are now. A version
    another run scans meanwhile against the same advisories is not scanned twice (`skipped`). `kept`: a
    matcher kept from earlier runs (the process's, `Runtime.kept_matcher`); else the run makes its own."""
    started = time.perf_counter()
    requested_at = clock()
    async with db.transaction() as session:
        service = ScanRunner(session, clock)
        targets = await service.targets(image_name, requested_at)
        feed_version = await service.feed_version()
        watches = await WatchService(session, clock).watched_by_tenant()
    if on_plan is not None:
        on_plan(len(targets))
    kept = kept or KeptMatcher()
    run = RunContext(matcher=Matcher(feed_version), watches=watches)
    report = ScanRunReport(feed_version=feed_version)
    for start in range(0, len(targets), batch_size):
        batch = targets[start : start + batch_size]
        async with db.transaction() as session:
            # The connection before the matcher's lock, as the worker's scans take them (`ScanJobs`):
            # one holding the lock while it waits for a connection, the other a connection while it
            # waits for the lock, would wait for each other when the pool runs dry.
            await session.connection()
            async with kept.lock:
                service = ScanRunner(session, clock)
                run.matcher = await kept.current(service.advisories)
                result = await service.scan_batch(run, batch)
        report.versions.extend(result.scanned)
        report.skipped += len(result.skipped)
        if progress is not None:
            progress(len(batch))
    report.advisories_loaded = run.matcher.index.advisory_count
    report.components = sum(v.components for v in report.versions)
    report.seconds = time.perf_counter() - started
    return report


class ScanJobs:
    """The worker's handler of queued scans (`portal.scanning.jobs`): a batch of versions per transaction.

    It scans with the process's kept matcher (`portal.scanning.index`), brought up to date for every
    batch after the batch's jobs were claimed, so an import whose rescans it runs is always seen.
    """

    batch_size = BATCH_SIZE

    def __init__(self, runtime: Runtime) -> None:
        self.clock = runtime.clock
        self.kept = runtime.kept_matcher

    async def __call__(self, session: AsyncSession, jobs: list[ClaimedJob]) -> None:
        service = ScanRunner(session, self.clock)
        requested: dict[str, datetime] = {}
        for job in jobs:
            version_id = str(job.payload.get("versionId", ""))
            requested[version_id] = max(requested.get(version_id, job.requested_at), job.requested_at)
        targets = await service.targets_by_id(requested)
        if targets:
            watches = await WatchService(session, self.clock).watched_by_tenant()
            async with self.kept.lock:
                matcher = await self.kept.current(service.advisories)
                await service.scan_batch(RunContext(matcher=matcher, watches=watches), targets)
