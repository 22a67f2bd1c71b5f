"""The scan job: plan, then scan and commit one batch of versions at a time.

It is a boundary like a request or a command: each batch commits its scans, findings and outbox events
together, so an interrupted run leaves whole batches behind and a rerun simply appends new scans.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portal.advisories.service import AdvisoryService
from portal.db import Database
from portal.kit.clock import Clock, utcnow
from portal.scanning.matching import Matcher
from portal.scanning.service import RunContext, ScanService, VersionScanned
from portal.watches.repository import WatchRepository

BATCH_SIZE = 50


@dataclass
class ScanRunReport:
    feed_version: str
    versions: list[VersionScanned] = field(default_factory=list)
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
) -> ScanRunReport:
    """Scans every published version (or one image's) against the advisories as they are now."""
    started = time.perf_counter()
    async with db.transaction() as session:
        targets = await ScanService(session, clock).targets(image_name)
        feed = await AdvisoryService(session, clock).feed_state()
        watches = await WatchRepository(session).all_by_tenant()
    if on_plan is not None:
        on_plan(len(targets))
    matcher = Matcher()
    run = RunContext(matcher=matcher, feed_version=feed.version, watches=watches, tenants_by_image={})
    report = ScanRunReport(feed_version=feed.version)
    for start in range(0, len(targets), batch_size):
        batch = targets[start : start + batch_size]
        async with db.transaction() as session:
            report.versions.extend(await ScanService(session, clock).scan_batch(run, batch))
        if progress is not None:
            progress(len(batch))
    report.advisories_loaded = matcher.index.advisory_count
    report.components = sum(v.components for v in report.versions)
    report.seconds = time.perf_counter() - started
    return report
