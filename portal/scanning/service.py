"""Reading scans: a version's history and findings as a tenant (or the operator) sees them, and the latest
scans and findings other features ask for. Running scans is `portal.scanning.runs`."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService
from portal.catalog import CatalogService, Image, ImageVersion
from portal.errors import NotFound
from portal.intel.service import IntelService
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import INTEL, ReadCache
from portal.scanning.affects import affects
from portal.scanning.findings import FoundVulnerability
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
from portal.scanning.models import Scan
from portal.scanning.repository import ScanRepository
from portal.scanning.summaries import LatestScan, open_summary, scan_summary
from portal.vex.service import Subjects, VexService


def _signals_size(signals: ListSignals) -> int:
    # the KEV set is kept once for every list (`ScanService._kev_ids`)
    return 64 * len(signals.epss) + 1024


def _ids_size(ids: frozenset[str]) -> int:
    return 64 * len(ids) + 1024


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
        listed = await IntelService(self.session, self.clock).kev_listed(every_cve)
        for scan in scans:
            out = taken[(scan.version_id, scan.findings_digest)]
            found[scan.id] = open_summary(found[scan.id], out, listed)
        return found

    async def kev_counts(self, scans: list[Scan]) -> dict[str, int]:
        """scan id -> how many of its findings are of a vulnerability in the KEV catalog now."""
        cves = await self.cve_ids_by_digest(sorted({scan.findings_digest for scan in scans}))
        every = {c.upper() for lines in cves.values() for line in lines for c in line}
        listed = await IntelService(self.session, self.clock).kev_listed(every)
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
            epss = await IntelService(self.session, self.clock).epss_scores(found.cves)
            return ListSignals(await self._kev_ids(), epss)

        if self.cache is None:
            return await read()
        return await self.cache.load(
            ("list-signals", digest), (INTEL,), read, _signals_size, session=self.session
        )

    async def _kev_ids(self) -> frozenset[str]:
        """Every CVE id in KEV as imported now: one set, however many lists are kept with it."""
        read = IntelService(self.session, self.clock).kev_ids
        if self.cache is None:
            return await read()
        return await self.cache.load(("kev-ids",), (INTEL,), read, _ids_size, session=self.session)

    async def latest_scans(self, version_ids: list[str]) -> dict[str, Scan]:
        """version id -> its newest scan."""
        return await self.repository.latest_scans(version_ids)

    async def latest_summaries(self, tenant_id: str | None, version_ids: list[str]) -> dict[str, LatestScan]:
        """version id -> its newest scan with its open counts for the tenant (the vendor's view when none
        is given), for the versions scanned (a catalog's `latestScan`)."""
        latest = await self.repository.latest_scans(version_ids)
        summaries = await self.summaries(tenant_id, list(latest.values()))
        return {version_id: LatestScan(scan, summaries[scan.id]) for version_id, scan in latest.items()}

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
