"""Scanning published versions against the imported advisories.

`ScanRunner.scan_batch` scans a batch of versions inside the caller's transaction and, in that same
transaction, writes the outbox events it causes (scan.completed, cve.watch.matched, cve.watch.resolved).
It first holds the batch's versions (`ScanRepository.lock_versions`), so two scans of one version never
run at once; a version whose latest scan was made against the same advisories after this scan was asked
for is left alone, so two rescans asked for at once make one scan and one set of events.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService
from portal.catalog import CatalogService, Image, ImageVersion
from portal.events import record_event
from portal.intel.service import IntelService
from portal.kit.clock import Clock, utcnow
from portal.scanning.affects import affects
from portal.scanning.events import ScanCompleted, ScanSummary
from portal.scanning.findings import EncodedFindings, FoundVulnerability, encode_findings
from portal.scanning.jobs import queue_version_scans
from portal.scanning.matching import Matcher, VersionFindings
from portal.scanning.models import Scan
from portal.scanning.repository import ScanRepository
from portal.scanning.summaries import open_summary
from portal.vex.service import Judged, Subjects, VexService
from portal.vex.verdicts import Verdict


@dataclass(frozen=True)
class ScanTarget:
    image: Image
    version: ImageVersion
    # When this scan was asked for: a scan made since, against the same advisories, already answers it.
    requested_at: datetime | None = None


@dataclass(frozen=True)
class VersionScanned:
    image_name: str
    version_id: str
    scan_id: str
    components: int
    summary: dict[str, int]
    new: list[str]
    resolved: list[str]


@dataclass(frozen=True)
class WatchedCve:
    watch_id: str
    cve_id: str


@dataclass
class RunContext:
    """What one scan run shares across its batches."""

    matcher: Matcher
    watches: dict[str, list[WatchedCve]]
    tenants_by_image: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class BatchResult:
    scanned: list[VersionScanned] = field(default_factory=list)
    # versions another scan had just scanned against the same advisories
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    """One version of a batch between matching and writing."""

    target: ScanTarget
    components: int
    found: VersionFindings
    encoded: EncodedFindings
    before: Scan | None
    scan_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def changed(self) -> bool:
        """Whether the findings differ from the version's previous scan (or there was none)."""
        return self.before is None or self.before.findings_digest != self.encoded.digest


class ScanRunner:
    """The operator's side: planning and running scans."""

    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = ScanRepository(session)
        self.catalog = CatalogService(session, clock)
        self.advisories = AdvisoryService(session, clock)
        self.vex = VexService(session, clock)

    async def targets(
        self, image_name: str | None = None, requested_at: datetime | None = None
    ) -> list[ScanTarget]:
        """Every published version (of one image), image by image, oldest version first."""
        return [
            ScanTarget(image, version, requested_at)
            for version, image in await self.catalog.published_versions_of(image_name)
        ]

    async def targets_by_id(self, requested: dict[str, datetime]) -> list[ScanTarget]:
        """The published ones of these versions (id -> when its scan was asked for)."""
        found = await self.catalog.published_with_images(sorted(requested))
        return [ScanTarget(image, version, requested[version.id]) for version, image in found]

    async def feed_version(self) -> str:
        return (await self.advisories.feed_state()).version

    async def queue_rescans(self, packages: set[tuple[str, str]]) -> int:
        """Queues a scan of every published version that contains one of these packages, and of every one
        whose packages are not indexed yet (never scanned); returns how many versions it queued."""
        if not packages:
            return 0
        named = await self.repository.versions_naming(sorted(packages))
        published = await self.catalog.published_version_ids()
        unindexed = set(published) - await self.repository.indexed_versions(published)
        wanted = (named & set(published)) | unindexed
        await queue_version_scans(self.session, wanted, self.clock())
        return len(wanted)

    async def scan_batch(self, run: RunContext, targets: list[ScanTarget]) -> BatchResult:
        result = BatchResult()
        await self.repository.lock_versions([t.version.id for t in targets])
        previous = await self.repository.latest_scans([t.version.id for t in targets])
        kept: list[ScanTarget] = []
        for target in targets:
            before = previous.get(target.version.id)
            if (
                before is not None
                and target.requested_at is not None
                and before.feed_version == run.matcher.feed_version
                and before.scanned_at >= target.requested_at
            ):
                result.skipped.append(target.version.id)
            else:
                kept.append(target)
        if not kept:
            return result
        version_ids = [target.version.id for target in kept]
        unknown_versions = [version_id for version_id in version_ids if not run.matcher.knows(version_id)]
        if unknown_versions:
            stored = await self.catalog.inventory_components(unknown_versions)
            for version_id in unknown_versions:
                run.matcher.add_version(version_id, stored.get(version_id, []))
        await self._index_packages(run.matcher, version_ids)
        run.matcher.use_kev(await IntelService(self.session, self.clock).kev_ids())
        await run.matcher.prepare(self.advisories, version_ids)

        unknown = {t.image.id for t in kept} - run.tenants_by_image.keys()
        if unknown:
            run.tenants_by_image.update(await self.catalog.entitled_tenants_of(sorted(unknown)))
        scanned_at = self.clock()
        scan_rows: list[dict[str, Any]] = []
        finding_sets: dict[str, dict[str, Any]] = {}
        pending: list[_Pending] = []
        for target in kept:
            found = run.matcher.findings(target.version.id)
            encoded = encode_findings(found.text, found.vulnerability_ids, found.cves, found.blocks)
            before = previous.get(target.version.id)
            components = run.matcher.component_count(target.version.id)
            item = _Pending(target, components, found, encoded, before)
            pending.append(item)
            scan_rows.append(
                {
                    "id": item.scan_id,
                    "version_id": target.version.id,
                    "image_id": target.image.id,
                    "scanned_at": scanned_at,
                    "feed_version": run.matcher.feed_version,
                    "findings_digest": encoded.digest,
                    **item.found.summary,
                }
            )
            if item.changed and encoded.digest not in finding_sets:
                finding_sets[encoded.digest] = encoded.row()
        # only a scan whose findings changed needs its predecessor's ids: the same digest, the same ids
        previous_ids = await self.repository.vulnerability_ids(
            [item.before.findings_digest for item in pending if item.before is not None and item.changed]
        )
        for item in pending:
            now = set(item.encoded.vulnerability_ids)
            if item.before is None:
                was: set[str] = set()
            elif item.changed:
                was = set(previous_ids.get(item.before.findings_digest, ()))
            else:
                was = now
            scanned = VersionScanned(
                image_name=item.target.image.name,
                version_id=item.target.version.id,
                scan_id=item.scan_id,
                components=item.components,
                summary={**item.found.summary, "kev": item.found.kev},
                new=sorted(now - was),
                resolved=sorted(was - now),
            )
            result.scanned.append(scanned)
            await self._record_events(run, item, scanned)
        await self.repository.insert(scan_rows, list(finding_sets.values()))
        return result

    async def _index_packages(self, matcher: Matcher, version_ids: list[str]) -> None:
        indexed = await self.repository.indexed_versions(version_ids)
        rows = [
            {"version_id": version_id, "ecosystem": ecosystem, "name": name[:500]}
            for version_id in version_ids
            if version_id not in indexed
            for ecosystem, name in sorted(matcher.packages_of(version_id))
        ]
        if rows:
            await self.repository.add_packages(rows)

    async def _record_events(self, run: RunContext, item: _Pending, result: VersionScanned) -> None:
        target, before = item.target, item.before
        image = target.image
        tenants = run.tenants_by_image[image.id]
        if not tenants:
            return
        now = await self.vex.verdicts_by_tenant(
            tenants, image, target.version, Subjects.of_findings(item.found.findings)
        )
        taken = {
            tenant_id: [f for f, v in zip(item.found.findings, now[tenant_id], strict=True) if not affects(v)]
            for tenant_id in tenants
        }
        out_cves = {c.upper() for found in taken.values() for f in found for c in f.cve_ids}
        listed = await IntelService(self.session, self.clock).kev_listed(out_cves)
        previous: list[FoundVulnerability] | None = None
        earlier: dict[str, list[Verdict | None]] = {}
        for tenant_id in tenants:
            verdicts, taken_out = now[tenant_id], taken[tenant_id]
            summary = open_summary(result.summary, taken_out, listed)
            scanned = ScanCompleted(
                image_id=image.id,
                image_name=image.name,
                version_id=target.version.id,
                scan_id=result.scan_id,
                summary=ScanSummary.model_validate(summary),
                new_vulnerabilities=result.new,
                resolved_vulnerabilities=result.resolved,
            )
            record_event(self.session, tenant_id, scanned, self.clock)
            watches = run.watches.get(tenant_id, [])
            if not item.changed or not watches:
                continue  # the same findings as before: no watch can change
            if previous is None:
                previous = []
                if before is not None:
                    sets = await self.repository.findings([before.findings_digest])
                    previous = sets.get(before.findings_digest, [])
                earlier = await self.vex.verdicts_by_tenant(
                    tenants, image, target.version, Subjects.of_findings(previous)
                )
            self.vex.record_watch_changes(
                tenant_id,
                watches,
                image,
                target.version,
                now=Judged(item.found.findings, verdicts),
                was=Judged(previous, earlier[tenant_id]),
            )
