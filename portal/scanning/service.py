"""Scanning published versions against the imported advisories, and reading the scan history.

`ScanService.scan_batch` scans a batch of versions inside the caller's transaction and, in that same
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
from portal.errors import NotFound
from portal.events import record_event
from portal.intel.service import IntelService
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import INTEL, ReadCache
from portal.scanning.affects import affects
from portal.scanning.events import ScanCompleted, ScanSummary
from portal.scanning.findings import (
    SUMMARY_FIELDS,
    EncodedFindings,
    FoundVulnerability,
    encode_findings,
    summary_counts,
)
from portal.scanning.jobs import queue_version_scans
from portal.scanning.listing import (
    Finding,
    FindingFilters,
    FindingList,
    FindingLists,
    ListSignals,
    SortOrder,
    needs_signals,
    page_positions,
    page_rows,
    with_signals,
)
from portal.scanning.matching import Matcher, VersionFindings
from portal.scanning.models import Scan
from portal.scanning.repository import ScanRepository
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


def open_summary(summary: dict[str, int], taken_out: list[FoundVulnerability], kev: int) -> dict[str, int]:
    """A scan's counts less the findings a VEX verdict takes out (counted apart as `suppressed`); `kev` is
    how many of those are in the KEV catalog."""
    less = dict(zip(SUMMARY_FIELDS, summary_counts(taken_out), strict=True))
    return {
        **{name: count - less.get(name, 0) for name, count in summary.items()},
        "suppressed": len(taken_out),
    } | ({"kev": summary["kev"] - kev} if "kev" in summary else {})


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


def _signals_size(signals: ListSignals) -> int:
    return 64 * (len(signals.kev) + len(signals.epss)) + 1024


class ScanService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock = utcnow,
        lists: FindingLists | None = None,
        cache: ReadCache | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        # the process's prepared finding lists (`Runtime.finding_lists`); without, each list is made anew
        self.lists = lists
        # the process's read cache (`Runtime.read_cache`): what a list reads of VEX and of KEV and EPSS is
        # kept there until it changes; without, it is read for every page
        self.cache = cache
        self.repository = ScanRepository(session)
        self.catalog = CatalogService(session, clock)
        self.advisories = AdvisoryService(session, clock)
        self.vex = VexService(session, clock, cache)

    # The operator's side: planning and running scans.

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
        listed = await self._kev_listed(out_cves) if out_cves else set()
        previous: list[FoundVulnerability] | None = None
        earlier: dict[str, list[Verdict | None]] = {}
        for tenant_id in tenants:
            verdicts, taken_out = now[tenant_id], taken[tenant_id]
            kev_out = sum(1 for f in taken_out if any(c.upper() in listed for c in f.cve_ids))
            summary = open_summary(result.summary, taken_out, kev_out)
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
    ) -> tuple[Scan, list[Finding]]:
        """A scan with every finding: its signals and what VEX says of it for the tenant (the findings a
        verdict takes out included)."""
        version = await self._visible_version(tenant_id, image_id, version_id)
        scan = await self.repository.scan(tenant_id, image_id, version_id, scan_id)
        if scan is None:
            raise NotFound("No such scan.")
        sets = await self.repository.findings([scan.findings_digest])
        findings = sorted(sets.get(scan.findings_digest, []), key=FoundVulnerability.sort_key)
        image = await self._image_of(version)
        verdicts = await self.vex.verdicts(tenant_id, image, version, Subjects.of_findings(findings))
        signals = await IntelService(self.session, self.clock).signals(c for f in findings for c in f.cve_ids)
        return scan, with_signals(findings, signals, verdicts)

    async def findings_page(
        self,
        tenant_id: str,
        image_id: str,
        version_id: str,
        scan_id: str,
        *,
        order: SortOrder,
        filters: FindingFilters,
        page: PageParams,
    ) -> Slice[Finding]:
        version = await self._visible_version(tenant_id, image_id, version_id)
        scan = await self.repository.scan(tenant_id, image_id, version_id, scan_id)
        if scan is None:
            raise NotFound("No such scan.")
        return await self._findings_page(tenant_id, version, scan, order=order, filters=filters, page=page)

    async def _kev_listed(self, cve_ids: set[str]) -> set[str]:
        """Those of these CVE ids in the KEV catalog as imported now."""
        return set((await IntelService(self.session, self.clock).signals(cve_ids)).kev)

    async def with_signals(self, findings: list[FoundVulnerability]) -> list[Finding]:
        """The findings with the KEV entry and EPSS score of their CVEs, as imported now."""
        signals = await IntelService(self.session, self.clock).signals(c for f in findings for c in f.cve_ids)
        return with_signals(findings, signals)

    async def summaries(self, tenant_id: str | None, scans: list[Scan]) -> dict[str, dict[str, int]]:
        """scan id -> its open counts for the tenant (the vendor's view when none is given): the findings
        a VEX verdict takes out counted apart as `suppressed`, and `kev` as imported now."""
        kev = await self.kev_counts(scans)
        found = {scan.id: {**scan_summary(scan), "kev": kev.get(scan.id, 0)} for scan in scans}
        versions = {
            version.id: (version, image)
            for version, image in await self.catalog.published_with_images(
                sorted({s.version_id for s in scans})
            )
        }
        # without any statement or analysis that could speak, no scan's findings need opening
        speaking = await self.vex.may_speak(tenant_id, sorted(versions))
        taken: dict[tuple[str, str], list[FoundVulnerability]] = {}
        for scan in scans:
            key = (scan.version_id, scan.findings_digest)
            if key not in taken:
                taken[key] = []
                if scan.version_id in speaking:
                    version, image = versions[scan.version_id]
                    findings = (await self.repository.findings([scan.findings_digest])).get(
                        scan.findings_digest, []
                    )
                    verdicts = await self.vex.verdicts(
                        tenant_id, image, version, Subjects.of_findings(findings)
                    )
                    taken[key] = [f for f, v in zip(findings, verdicts, strict=True) if not affects(v)]
        every_cve = {c.upper() for out in taken.values() for f in out for c in f.cve_ids}
        listed = await self._kev_listed(every_cve) if every_cve else set()
        for scan in scans:
            out = taken[(scan.version_id, scan.findings_digest)]
            kev_out = sum(1 for f in out if any(c.upper() in listed for c in f.cve_ids))
            found[scan.id] = open_summary(found[scan.id], out, kev_out)
        return found

    async def kev_counts(self, scans: list[Scan]) -> dict[str, int]:
        """scan id -> how many of its findings are of a vulnerability in the KEV catalog now."""
        cves = await self.cve_ids_by_digest(sorted({scan.findings_digest for scan in scans}))
        every = {c.upper() for lines in cves.values() for line in lines for c in line}
        listed = set((await IntelService(self.session, self.clock).signals(every)).kev)
        per_digest = {
            digest: sum(1 for line in lines if any(c.upper() in listed for c in line))
            for digest, lines in cves.items()
        }
        return {scan.id: per_digest.get(scan.findings_digest, 0) for scan in scans}

    async def operator_latest(self, image_name: str, version: str | None) -> tuple[ImageVersion, Scan]:
        """The operator's view: the newest scan of an image's version, named by digest or tag (its newest
        published version when none is named)."""
        candidates = [v for v, _image in await self.catalog.published_versions_of(image_name)]
        if version is not None:
            candidates = [v for v in candidates if v.digest == version or version in v.tags]
        if not candidates:
            raise NotFound(f"Image {image_name} has no published version {version or ''}".rstrip() + ".")
        chosen = max(candidates, key=lambda v: (v.published_at, v.id))
        scan = (await self.repository.latest_scans([chosen.id])).get(chosen.id)
        if scan is None:
            raise NotFound(f"Version {chosen.digest} of {image_name} has no scan yet.")
        return chosen, scan

    async def operator_findings(
        self,
        version: ImageVersion,
        scan: Scan,
        *,
        order: SortOrder,
        filters: FindingFilters,
        page: PageParams,
    ) -> Slice[Finding]:
        """The operator's view of a page of a scan's findings: the vendor's statements apply."""
        return await self._findings_page(None, version, scan, order=order, filters=filters, page=page)

    async def _findings_page(
        self,
        tenant_id: str | None,
        version: ImageVersion,
        scan: Scan,
        *,
        order: SortOrder,
        filters: FindingFilters,
        page: PageParams,
    ) -> Slice[Finding]:
        """A page of the scan's findings, with their KEV entries and EPSS scores as imported now and the
        verdicts VEX gives them now (the tenant's, or the vendor's alone)."""
        found = await self.finding_list(scan.findings_digest)
        image = await self._image_of(version)
        verdicts = await self.vex.scan_verdicts(
            tenant_id, image, version, scan.findings_digest, lambda: Subjects.of_listed(found.items)
        )
        signals = (
            await self._list_signals(scan.findings_digest, found) if needs_signals(order, filters) else None
        )
        positions, cursor = page_positions(found, verdicts, signals, filters, order, page)
        shown = await self.with_signals(page_rows(found, positions))
        return Slice(
            [
                Finding(f.found, f.kev, f.epss, at, verdicts[at])
                for f, at in zip(shown, positions, strict=True)
            ],
            cursor,
        )

    async def finding_list(self, digest: str) -> FindingList:
        """The finding set of this digest, prepared for lists."""
        if self.lists is not None:
            return await self.lists.get(digest, self.repository.document)
        return FindingList(await self.repository.document(digest))

    async def _list_signals(self, digest: str, found: FindingList) -> ListSignals:
        """Which of the list's CVEs are in KEV and their EPSS scores, as imported now."""

        async def read() -> ListSignals:
            intel = IntelService(self.session, self.clock)
            return ListSignals(await intel.kev_ids(), await intel.epss_scores(found.cves))

        if self.cache is None:
            return await read()
        return await self.cache.load(("list-signals", digest), (INTEL,), read, _signals_size, in_caller=True)

    async def latest_scans(self, version_ids: list[str]) -> dict[str, Scan]:
        """version id -> its newest scan (for the catalog's `latestScan`)."""
        return await self.repository.latest_scans(version_ids)

    async def latest_summaries(self, version_ids: list[str]) -> dict[str, dict[str, int]]:
        latest = await self.repository.latest_scans(version_ids)
        return {version_id: scan_summary(scan) for version_id, scan in latest.items()}

    async def cve_ids_by_digest(self, digests: list[str]) -> dict[str, list[list[str]]]:
        """digest -> each finding's CVE ids: what a KEV count needs, without opening the documents."""
        return {
            digest: [cves for _vid, cves in lines]
            for digest, lines in (await self.repository.line_ids(digests)).items()
        }

    async def latest_findings_naming(
        self, version_ids: list[str], identifiers: set[str]
    ) -> dict[str, list[FoundVulnerability]]:
        """version id -> the findings of its latest scan known as one of the (upper-case) identifiers."""
        latest = await self.repository.latest_scans(version_ids)
        sets = await self.repository.findings([scan.findings_digest for scan in latest.values()], identifiers)
        return {version_id: sets.get(scan.findings_digest, []) for version_id, scan in latest.items()}

    async def latest_finding_list(self, version_id: str) -> tuple[str | None, FindingList]:
        """The findings document's digest of the version's newest scan and its findings, prepared for
        lists (None and empty before its first scan)."""
        scan = (await self.repository.latest_scans([version_id])).get(version_id)
        if scan is None:
            return None, FindingList(None)
        return scan.findings_digest, await self.finding_list(scan.findings_digest)

    async def latest_findings(self, version_id: str) -> list[FoundVulnerability]:
        """The findings of the version's newest scan, most severe first (none before its first scan)."""
        scan = (await self.repository.latest_scans([version_id])).get(version_id)
        if scan is None:
            return []
        findings = (await self.repository.findings([scan.findings_digest])).get(scan.findings_digest, [])
        return sorted(findings, key=FoundVulnerability.sort_key)

    async def latest_findings_known_as(
        self, version_ids: list[str], identifier: str
    ) -> dict[str, list[FoundVulnerability]]:
        """version id -> the findings of its latest scan known as `identifier` (upper case) by any id of
        their vulnerability."""
        wanted = await self.advisories.alias_groups([identifier])
        found = await self.latest_findings_naming(version_ids, wanted)
        return {version_id: [f for f in hits if f.names(identifier)] for version_id, hits in found.items()}

    async def ever_reported(self, version_ids: list[str], identifiers: list[str]) -> set[str]:
        return await self.repository.scans_naming(version_ids, identifiers)

    async def _image_of(self, version: ImageVersion) -> Image:
        image = await self.catalog.image_by_id(version.image_id)
        if image is None:
            raise NotFound("No such image.")
        return image

    async def _visible_version(self, tenant_id: str, image_id: str, version_id: str) -> ImageVersion:
        version = await self.catalog.visible_version(tenant_id, image_id, version_id)
        if version is None:
            raise NotFound("No such image version.")
        return version
