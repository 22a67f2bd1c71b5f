"""A tenant's triage: its analysis of a vulnerability found in a version it sees, recorded, withdrawn
and read back with its history. The analysis speaks for that tenant only (`portal.vex.verdicts`)."""

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.actor import Actor
from portal.errors import NotFound
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice
from portal.scanning.service import ScanService
from portal.vex.models import FindingAnalysis
from portal.vex.service import AnalysisInput, VexService


class TriageService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.clock = clock
        self.vex = VexService(session, clock)
        self.scans = ScanService(session, clock)

    async def record(
        self, actor: Actor, image_id: str, version_id: str, vulnerability_id: str, analysis: AnalysisInput
    ) -> FindingAnalysis:
        """The analysis of a vulnerability the version's latest scan found, filed under the id the
        finding shows (whichever of its ids the caller named)."""
        version = await self.vex.catalog.visible_version(actor.tenant_id, image_id, version_id)
        if version is None:
            raise NotFound("No such image version.")
        filed_under = await self._filed_under(version.id, vulnerability_id)
        if filed_under is None:
            raise NotFound(f"The latest scan of this version found no {vulnerability_id.strip().upper()}.")
        return await self.vex.record_analysis(actor, version.id, filed_under, analysis)

    async def withdraw(self, actor: Actor, image_id: str, version_id: str, vulnerability_id: str) -> None:
        version = await self.vex.catalog.visible_version(actor.tenant_id, image_id, version_id)
        if version is None:
            raise NotFound("No such image version.")
        filed_under = await self._filed_under(version.id, vulnerability_id)
        await self.vex.withdraw_analysis(actor, version.id, filed_under or vulnerability_id.strip().upper())

    async def history(
        self, tenant_id: str, image_id: str, version_id: str, vulnerability_id: str, page: PageParams
    ) -> Slice[FindingAnalysis]:
        version = await self.vex.catalog.visible_version(tenant_id, image_id, version_id)
        if version is None:
            raise NotFound("No such image version.")
        filed_under = await self._filed_under(version.id, vulnerability_id)
        return await self.vex.analysis_history(tenant_id, version.id, filed_under or vulnerability_id, page)

    async def _filed_under(self, version_id: str, vulnerability_id: str) -> str | None:
        """The id the version's findings show for the vulnerability the caller names by any of its ids."""
        wanted = vulnerability_id.strip().upper()
        found = await self.scans.latest_findings_known_as([version_id], wanted)
        return found[version_id][0].vulnerability_id.upper() if found.get(version_id) else None
