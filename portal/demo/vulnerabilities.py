"""What makes the demo catalog show its scans: the advisories shipped in `portal/demo/advisories`, a scan
of every demo version that has none yet, and two CVE watches for the demo tenant.

Everything goes through the same services as `portal advisories import`, `portal scan` and the watch API;
nothing here reads or writes their tables itself.
"""

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService, ImportReport
from portal.auth.actor import Actor
from portal.catalog import CatalogService
from portal.demo.catalog import DEMO_IMAGES
from portal.kit.clock import Clock
from portal.kit.pagination import every_item
from portal.runtime import Runtime
from portal.scanning.service import ScanService
from portal.scanning.tasks import rescan
from portal.watches.service import WatchService, WatchView

ADVISORY_PACKAGE = "portal.demo.advisories"


@dataclass(frozen=True)
class DemoWatch:
    cve_id: str
    note: str


DEMO_WATCHES = (
    # named by a demo advisory that affects the python and nginx images
    DemoWatch("CVE-2024-5535", "OpenSSL NPN overread: which of our images still ship it?"),
    # named by no advisory the demo ships, so its status stays unknown
    DemoWatch("CVE-2021-44228", "Log4Shell: tell us if it ever shows up in an image."),
)


@dataclass(frozen=True)
class DemoScan:
    image: str
    summary: dict[str, int]


@dataclass(frozen=True)
class DemoWatchStatus:
    cve_id: str
    status: str
    images: tuple[str, ...]


def demo_advisory_records() -> list[tuple[str, dict[str, Any]]]:
    folder = resources.files(ADVISORY_PACKAGE)
    return [
        (f"{ADVISORY_PACKAGE}:{entry.name}", json.loads(entry.read_bytes()))
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".json")
    ]


async def import_demo_advisories(session: AsyncSession, clock: Clock) -> ImportReport:
    """Imports the shipped advisories; their fixed `modified` times make a second import change nothing."""
    return await AdvisoryService(session, clock).import_records(demo_advisory_records())


async def watch_demo_cves(session: AsyncSession, clock: Clock, actor: Actor) -> int:
    """Watches the demo CVEs that are not watched yet; returns how many it added."""
    watches = WatchService(session, clock)
    added = 0
    for demo in DEMO_WATCHES:
        _view, created = await watches.watch(actor, demo.cve_id, demo.note)
        added += created
    return added


async def scan_unscanned_demo_images(runtime: Runtime) -> list[str]:
    """Runs the scan job for each demo image whose demo version has no scan yet; returns those images.

    Commits on its own, batch by batch, like `portal scan`, so the caller's seeding must be committed first.
    """
    async with runtime.db.transaction() as session:
        scans = await latest_demo_scans(session)
    scanned = {scan.image for scan in scans}
    unscanned = [demo.name for demo in DEMO_IMAGES if demo.name not in scanned]
    for name in unscanned:
        await rescan(runtime.db, runtime.clock, image_name=name)
    return unscanned


async def latest_demo_scans(session: AsyncSession) -> list[DemoScan]:
    """The newest scan of each demo image's demo version, for the images that have one."""
    catalog = CatalogService(session)
    versions: dict[str, str] = {}
    for demo in DEMO_IMAGES:
        version = await catalog.version_by_digest(demo.name, demo.digest)
        if version is not None:
            versions[demo.name] = version.id
    # the vendor's view: the open counts of the newest scans
    latest = await ScanService(session).latest_summaries(None, list(versions.values()))
    return [
        DemoScan(name, latest[version_id].summary)
        for name, version_id in versions.items()
        if version_id in latest
    ]


async def demo_watch_statuses(session: AsyncSession, tenant_id: str) -> list[DemoWatchStatus]:
    watches = WatchService(session)
    views: dict[str, WatchView] = {
        view.watch.cve_id: view for view in await every_item(lambda page: watches.page(tenant_id, page))
    }
    return [
        DemoWatchStatus(
            demo.cve_id,
            views[demo.cve_id].status,
            tuple(sorted({affected.image_name for affected in views[demo.cve_id].affected})),
        )
        for demo in DEMO_WATCHES
        if demo.cve_id in views
    ]
