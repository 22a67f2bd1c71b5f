"""CVE watches: a tenant's list of CVE ids, each with its live status against the tenant's images.

The status is computed when read, from the latest scans of the published versions of the images the
tenant is entitled to and what VEX says of their findings now, by the same rule the scan job and a vendor
statement use to write the matched / resolved events (`portal.scanning.affects`).
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService
from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.catalog import CatalogService
from portal.errors import NotFound
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice
from portal.scanning.affects import effect, watch_packages
from portal.scanning.runs import WatchedCve
from portal.scanning.service import ScanService
from portal.vex.service import Subjects, VexService
from portal.vex.verdicts import Verdict
from portal.watches.models import CveWatch
from portal.watches.repository import WatchRepository


@dataclass(frozen=True)
class AffectedVersion:
    image_id: str
    image_name: str
    version_id: str
    tags: list[str]
    packages: list[dict[str, str | None]]


@dataclass(frozen=True)
class WatchView:
    watch: CveWatch
    status: str
    affected: list[AffectedVersion]
    advisory_ids: list[str]
    # when VEX takes out every finding of the CVE: the latest verdict that does
    vex: Verdict | None = None


class WatchService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = WatchRepository(session)

    async def page(self, tenant_id: str, page: PageParams) -> Slice[WatchView]:
        found = await self.repository.page(tenant_id, page)
        return found.replace(await self._views(tenant_id, found.items))

    async def watch(self, actor: Actor, cve_id: str, note: str | None) -> tuple[WatchView, bool]:
        """(the watch, whether it is new): watching a CVE twice answers the existing watch."""
        tenant_id = actor.tenant_id
        cve_id = cve_id.strip().upper()
        existing = await self.repository.by_cve(tenant_id, cve_id)
        created = existing is None
        if existing is None:
            watch = CveWatch(tenant_id=tenant_id, cve_id=cve_id, note=note, created_at=self.clock())
            watch.set_created_by(actor.ref)
            try:
                async with self.session.begin_nested():
                    self.repository.add(watch)
                    await self.session.flush()
                existing = watch
            except IntegrityError:
                # Another request watched it meanwhile: its watch is the answer, as if it came first.
                existing = await self.repository.by_cve(tenant_id, cve_id)
                if existing is None:
                    raise
                created = False
        if created:
            record_audit(
                self.session,
                actor,
                AuditAction.CVE_WATCH_CREATED,
                AuditTarget("cve_watch", existing.id, existing.cve_id),
                clock=self.clock,
            )
        (view,) = await self._views(tenant_id, [existing])
        return view, created

    async def watched_by_tenant(self) -> dict[str, list[WatchedCve]]:
        """Every tenant's watched CVEs: a scan checks each of them (the operator's cross-tenant read)."""
        return {
            tenant_id: [WatchedCve(watch.id, watch.cve_id) for watch in watches]
            for tenant_id, watches in (await self.repository.all_by_tenant()).items()
        }

    async def unwatch(self, actor: Actor, watch_id: str) -> None:
        watch = await self.repository.by_id(actor.tenant_id, watch_id)
        if watch is None:
            raise NotFound("No such CVE watch.")
        await self.repository.delete(watch)
        await self.session.flush()
        record_audit(
            self.session,
            actor,
            AuditAction.CVE_WATCH_DELETED,
            AuditTarget("cve_watch", watch.id, watch.cve_id),
            clock=self.clock,
        )

    async def _views(self, tenant_id: str, rows: list[CveWatch]) -> list[WatchView]:
        if not rows:
            return []
        cves = sorted({watch.cve_id for watch in rows})
        known = await AdvisoryService(self.session).known_as(cves)
        # scans stored before alias groups file a finding under its advisory's id, not its CVE
        names = {cve: {cve} | {advisory_id.upper() for advisory_id, _ in known.get(cve, [])} for cve in cves}
        every_name = {name for found in names.values() for name in found}
        scans = ScanService(self.session, self.clock)
        versions = await CatalogService(self.session, self.clock).entitled_versions(tenant_id)
        visible = [
            (version, image)
            for version, image in versions
            if version.unpublished_at is None and image.latest_version_id is not None
        ]
        hits = await scans.latest_findings_naming([version.id for version, _ in visible], every_name)
        ever = await scans.ever_reported([version.id for version, _ in versions], sorted(every_name))
        vex = VexService(self.session, self.clock)
        verdicts: dict[str, list[Verdict | None]] = {}
        for version, image in visible:
            if hits.get(version.id):
                verdicts[version.id] = await vex.verdicts(
                    tenant_id, image, version, Subjects.of_findings(hits[version.id])
                )
        views = []
        for watch in rows:
            affected = []
            taken_out: list[Verdict] = []
            for version, image in visible:
                found = effect(hits.get(version.id, []), watch.cve_id, verdicts.get(version.id))
                taken_out.extend(verdict for _, verdict in found.suppressed)
                if found.affecting:
                    affected.append(
                        AffectedVersion(
                            image_id=image.id,
                            image_name=image.name,
                            version_id=version.id,
                            tags=list(version.tags),
                            packages=watch_packages(found.affecting),
                        )
                    )
            advisory_ids = [
                advisory_id for advisory_id, withdrawn in known.get(watch.cve_id, []) if not withdrawn
            ]
            latest_verdict = max(taken_out, key=lambda v: v.timestamp) if taken_out else None
            if affected:
                status, latest_verdict = "affected", None
            elif latest_verdict is not None:
                status = "not_affected"
            elif names[watch.cve_id] & ever:
                status = "fixed"
            elif advisory_ids:
                status = "not_affected"
            else:
                status = "unknown"
            views.append(WatchView(watch, status, affected, advisory_ids, latest_verdict))
        return views
