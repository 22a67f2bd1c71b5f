"""What a change of the vendor's statements tells tenants, in the transaction that makes it:
`vex.published` to the tenants whose image versions a new statement now speaks for, and
`cve.watch.matched` / `resolved` where it changes whether a watched CVE affects a version, as a scan
would (`VexService.record_watch_changes`)."""

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService
from portal.catalog import CatalogService, Image, ImageVersion
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.scanning.service import ScanService
from portal.vex.events import VexPublished, VexStatementSummary
from portal.vex.models import VexStatement
from portal.vex.repository import VexRepository
from portal.vex.service import Judged, Subjects, VexService
from portal.vex.verdicts import Verdict
from portal.watches.service import WatchService


class StatementNews:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = VexRepository(session)
        self.catalog = CatalogService(session, clock)
        self.verdicts = VexService(session, clock)

    async def announce(self, added: Collection[str], revoked: Collection[str]) -> None:
        """The events of statements just added and revoked, for every tenant they change something for."""
        changed = [*added, *revoked]
        if not changed:
            return
        statements = {s.id: s for s in await self.repository.statements(changed)}
        # the findings name a vulnerability by its group's id and CVEs: a statement may name another alias
        identifiers = await AdvisoryService(self.session, self.clock).alias_groups(
            sorted({i for s in statements.values() for i in s.identifiers})
        )
        scans = ScanService(self.session, self.clock)
        versions = await self.catalog.published_versions_of()
        hits = await scans.latest_findings_naming([v.id for v, _ in versions], identifiers)
        if not any(hits.values()):
            return
        watches = await WatchService(self.session, self.clock).watched_by_tenant()
        tenants_of: dict[str, list[str]] = {}
        for version, image in versions:
            findings = hits.get(version.id)
            if not findings:
                continue
            if image.id not in tenants_of:
                tenants_of[image.id] = await self.catalog.entitled_tenant_ids(image.id)
            tenants = tenants_of[image.id]
            if not tenants:
                continue
            subjects = Subjects.of_findings(findings)
            after = await self.verdicts.verdicts_by_tenant(tenants, image, version, subjects)
            before = await self.verdicts.verdicts_by_tenant(
                tenants, image, version, subjects, leave_out=added, with_revoked=revoked
            )
            for tenant_id in tenants:
                self._published(tenant_id, image, version, after[tenant_id], statements, added)
                self.verdicts.record_watch_changes(
                    tenant_id,
                    [w for w in watches.get(tenant_id, []) if w.cve_id in identifiers],
                    image,
                    version,
                    now=Judged(findings, after[tenant_id]),
                    was=Judged(findings, before[tenant_id]),
                )

    def _published(
        self,
        tenant_id: str,
        image: Image,
        version: ImageVersion,
        verdicts: list[Verdict | None],
        statements: dict[str, VexStatement],
        added: Collection[str],
    ) -> None:
        speaking = [v for v in verdicts if v is not None and v.statement_id in added]
        if not speaking:
            return
        ids = sorted({v.statement_id for v in speaking if v.statement_id is not None})
        payload = VexPublished(
            image_id=image.id,
            image_name=image.name,
            version_id=version.id,
            statements=[
                VexStatementSummary(
                    statement_id=statement_id,
                    vulnerability=statements[statement_id].vulnerability,
                    status=statements[statement_id].status,
                    justification=statements[statement_id].justification,
                    statement=statements[statement_id].statement,
                    action=statements[statement_id].action,
                    timestamp=statements[statement_id].stated_at,
                )
                for statement_id in ids
            ],
            suppressed=sum(1 for v in speaking if v.suppresses),
        )
        record_event(self.session, tenant_id, payload, self.clock)
