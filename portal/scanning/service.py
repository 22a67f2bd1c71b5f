"""Scanning published versions against the imported advisories, and reading the scan history.

A scan run is a job: `portal.scanning.tasks.rescan` plans it and commits one batch of versions at a time;
`ScanService.scan_batch` does one batch inside the caller's transaction and, in that same transaction,
writes the outbox events it causes (scan.completed, cve.watch.matched, cve.watch.resolved).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.repository import AdvisoryRepository
from portal.catalog import CatalogService, Image, ImageVersion
from portal.catalog.repository import CatalogRepository
from portal.errors import NotFound
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice
from portal.sbom import Inventory
from portal.scanning.events import ScanCompleted, ScanSummary
from portal.scanning.findings import EncodedFindings, FoundVulnerability, encode_findings
from portal.scanning.matching import Matcher
from portal.scanning.models import Scan
from portal.scanning.repository import ScanRepository
from portal.watches.events import CveWatchMatched, CveWatchResolved, WatchedPackage
from portal.watches.models import CveWatch


@dataclass(frozen=True)
class ScanTarget:
    image: Image
    version: ImageVersion


@dataclass(frozen=True)
class VersionScanned:
    image_name: str
    version_id: str
    scan_id: str
    components: int
    summary: dict[str, int]
    new: list[str]
    resolved: list[str]


@dataclass
class RunContext:
    """What one scan run shares across its batches."""

    matcher: Matcher
    feed_version: str
    watches: dict[str, list[CveWatch]]
    tenants_by_image: dict[str, list[str]]


@dataclass
class _Pending:
    """One version of a batch between matching and writing."""

    target: ScanTarget
    components: int
    findings: list[FoundVulnerability]
    summary: dict[str, int]
    encoded: EncodedFindings
    before: Scan | None
    scan_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def changed(self) -> bool:
        """Whether the findings differ from the version's previous scan (or there was none)."""
        return self.before is None or self.before.findings_digest != self.encoded.digest


def scan_summary(scan: Scan) -> dict[str, int]:
    return {
        "critical": scan.critical,
        "high": scan.high,
        "medium": scan.medium,
        "low": scan.low,
        "unknown": scan.unknown,
        "total": scan.total,
        "fixable": scan.fixable,
    }


def watch_packages(findings: list[FoundVulnerability]) -> list[dict[str, str | None]]:
    packages: dict[tuple[str, str | None, str | None], dict[str, str | None]] = {}
    for finding in findings:
        key = (finding.package_name, finding.package_version, finding.package_purl)
        packages.setdefault(
            key,
            {
                "name": finding.package_name,
                "version": finding.package_version,
                "purl": finding.package_purl,
                "fixedVersion": finding.fixed_version,
            },
        )
    return [packages[key] for key in sorted(packages, key=lambda k: (k[0], k[1] or "", k[2] or ""))]


class ScanService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = ScanRepository(session)
        self.catalog = CatalogService(session, clock)

    # The operator's side: planning and running scans.

    async def targets(self, image_name: str | None = None) -> list[ScanTarget]:
        """Every published version (of one image), image by image, oldest version first."""
        repository = CatalogRepository(self.session)
        if image_name is not None:
            image = await repository.image_by_name(image_name)
            if image is None:
                raise NotFound(f"No image {image_name!r}.")
            images = [image]
        else:
            images = await repository.all_images()
        targets: list[ScanTarget] = []
        for image in images:
            versions = await repository.published_versions(image.id)
            targets.extend(ScanTarget(image, version) for version in reversed(versions))
        return targets

    async def scan_batch(self, run: RunContext, targets: list[ScanTarget]) -> list[VersionScanned]:
        stored = await self.catalog.inventories([target.version.id for target in targets])
        empty = Inventory(components=(), dependencies=(), source_format="")
        inventories = [stored.get(target.version.id, empty) for target in targets]
        await run.matcher.load_for(AdvisoryRepository(self.session), inventories)

        previous = await self.repository.latest_scans([t.version.id for t in targets])
        scanned_at = self.clock()
        scan_rows: list[dict[str, Any]] = []
        finding_sets: dict[str, dict[str, Any]] = {}
        pending: list[_Pending] = []
        for target, inventory in zip(targets, inventories, strict=True):
            found = run.matcher.findings(inventory)
            encoded = encode_findings(found.lines, [finding.vulnerability_id for finding in found.findings])
            before = previous.get(target.version.id)
            item = _Pending(target, len(inventory.components), found.findings, found.summary, encoded, before)
            pending.append(item)
            scan_rows.append(
                {
                    "id": item.scan_id,
                    "version_id": target.version.id,
                    "image_id": target.image.id,
                    "scanned_at": scanned_at,
                    "feed_version": run.feed_version,
                    "findings_digest": encoded.digest,
                    **item.summary,
                }
            )
            if item.changed and encoded.digest not in finding_sets:
                finding_sets[encoded.digest] = encoded.row()
        # only a scan whose findings changed needs its predecessor's ids: the same digest, the same ids
        previous_ids = await self.repository.vulnerability_ids(
            [item.before.findings_digest for item in pending if item.before is not None and item.changed]
        )
        results: list[VersionScanned] = []
        for item in pending:
            now = set(item.encoded.vulnerability_ids)
            if item.before is None:
                was: set[str] = set()
            elif item.changed:
                was = set(previous_ids.get(item.before.findings_digest, ()))
            else:
                was = now
            result = VersionScanned(
                image_name=item.target.image.name,
                version_id=item.target.version.id,
                scan_id=item.scan_id,
                components=item.components,
                summary=item.summary,
                new=sorted(now - was),
                resolved=sorted(was - now),
            )
            results.append(result)
            await self._record_events(run, item, result)
        await self.repository.insert(scan_rows, list(finding_sets.values()))
        return results

    async def _record_events(self, run: RunContext, item: _Pending, result: VersionScanned) -> None:
        target, before = item.target, item.before
        image = target.image
        if image.id not in run.tenants_by_image:
            run.tenants_by_image[image.id] = await self.catalog.entitled_tenant_ids(image.id)
        tenants = run.tenants_by_image[image.id]
        previous: list[FoundVulnerability] | None = None
        scanned = ScanCompleted(
            image_id=image.id,
            image_name=image.name,
            version_id=target.version.id,
            scan_id=result.scan_id,
            summary=ScanSummary.model_validate(result.summary),
            new_vulnerabilities=result.new,
            resolved_vulnerabilities=result.resolved,
        )
        for tenant_id in tenants:
            record_event(self.session, tenant_id, scanned, self.clock)
            if not item.changed:
                continue  # the same findings as before: no watch can change
            for watch in run.watches.get(tenant_id, []):
                if previous is None:
                    previous = []
                    if before is not None:
                        sets = await self.repository.findings([before.findings_digest])
                        previous = sets.get(before.findings_digest, [])
                hits_now = [f for f in item.findings if f.names(watch.cve_id)]
                hits_before = [f for f in previous if f.names(watch.cve_id)]
                if bool(hits_now) == bool(hits_before):
                    continue
                change = CveWatchMatched if hits_now else CveWatchResolved
                payload = change(
                    watch_id=watch.id,
                    cve_id=watch.cve_id,
                    image_id=image.id,
                    image_name=image.name,
                    version_id=target.version.id,
                    packages=[
                        WatchedPackage.model_validate(p) for p in watch_packages(hits_now or hits_before)
                    ],
                )
                record_event(self.session, tenant_id, payload, self.clock)

    # The tenant's side: the history of a version it may see.

    async def history(
        self,
        tenant_id: str,
        image_id: str,
        version_id: str,
        page: PageParams,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Slice[Scan]:
        await self._visible_version(tenant_id, image_id, version_id)
        return await self.repository.history(tenant_id, image_id, version_id, page, since=since, until=until)

    async def scan_detail(
        self, tenant_id: str, image_id: str, version_id: str, scan_id: str
    ) -> tuple[Scan, list[FoundVulnerability]]:
        await self._visible_version(tenant_id, image_id, version_id)
        scan = await self.repository.scan(tenant_id, image_id, version_id, scan_id)
        if scan is None:
            raise NotFound("No such scan.")
        sets = await self.repository.findings([scan.findings_digest])
        return scan, sets.get(scan.findings_digest, [])

    async def latest_summaries(self, version_ids: list[str]) -> dict[str, dict[str, int]]:
        """version id -> the summary of its newest scan (for the catalog's `latestScan`)."""
        latest = await self.repository.latest_scans(version_ids)
        return {version_id: scan_summary(scan) for version_id, scan in latest.items()}

    async def _visible_version(self, tenant_id: str, image_id: str, version_id: str) -> ImageVersion:
        version = await self.catalog.visible_version(tenant_id, image_id, version_id)
        if version is None:
            raise NotFound("No such image version.")
        return version
