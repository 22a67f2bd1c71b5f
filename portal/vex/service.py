"""What VEX says about a version's findings (the verdicts every read of findings shows), and tenants'
analyses of their findings (their triage).

The verdicts are read, never stored: a statement imported or revoked, an analysis recorded or expired,
changes every finding it speaks for at once, without a rescan.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.catalog import CatalogService, Image, ImageVersion
from portal.errors import NotFound
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import VEX, ReadCache, changed, lasts_until
from portal.scanning.affects import affecting, watch_packages
from portal.scanning.findings import FoundVulnerability, row_ids
from portal.vex.models import FindingAnalysis, VexStatement
from portal.vex.products import PurlKey, image_names, purl_key, same_version
from portal.vex.repository import VexRepository
from portal.vex.verdicts import ANALYSIS_STATUS, Analysis, Candidate, Subject, Verdict, VersionFacts, decide
from portal.watches.events import CveWatchMatched, CveWatchResolved, WatchedPackage

ANALYSIS_STATES = tuple(ANALYSIS_STATUS)
ANALYSIS_JUSTIFICATIONS = (
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
)
ANALYSIS_RESPONSES = ("can_not_fix", "will_not_fix", "update", "rollback", "workaround_available")


class Listed(Protocol):
    """A finding as a prepared list holds it (`portal.scanning.listing.FindingList`)."""

    @property
    def ids(self) -> frozenset[str]: ...  # upper case
    @property
    def purl(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...


class Subjects:
    """Findings as VEX matches them, each purl read once (a version repeats a purl in many findings)."""

    def __init__(self) -> None:
        self._keys: dict[str, PurlKey | None] = {}
        self.items: list[Subject] = []

    def _key(self, purl: str | None) -> PurlKey | None:
        if purl is None:
            return None
        if purl not in self._keys:
            self._keys[purl] = purl_key(purl)
        return self._keys[purl]

    def add(self, ids: Iterable[str], purl: str | None, version: str | None) -> None:
        self.add_upper(frozenset(i.upper() for i in ids), purl, version)

    def add_upper(self, ids: frozenset[str], purl: str | None, version: str | None) -> None:
        """A finding whose ids are upper case already."""
        key = self._key(purl)
        self.items.append(
            Subject(
                ids,
                key.key if key is not None else None,
                (key.version if key is not None else None) or version,
            )
        )

    @classmethod
    def of_findings(cls, findings: Sequence[FoundVulnerability]) -> "Subjects":
        subjects = cls()
        for finding in findings:
            subjects.add(finding.ids, finding.package_purl, finding.package_version)
        return subjects

    @classmethod
    def of_listed(cls, items: Iterable[Listed]) -> "Subjects":
        subjects = cls()
        for item in items:
            subjects.add_upper(item.ids, item.purl, item.version)
        return subjects

    @classmethod
    def of_rows(cls, rows: Sequence[list[Any]]) -> "Subjects":
        """From raw finding lines (`portal.scanning.findings.finding_row`)."""
        subjects = cls()
        for row in rows:
            # lines written since alias groups hold every id at [1]; older ones only the aliases
            subjects.add(row[1] if len(row) > 8 else row_ids(row), row[6], row[5])
        return subjects

    @property
    def component_keys(self) -> set[str]:
        return {s.component_key for s in self.items if s.component_key is not None}


class Watched(Protocol):
    """A tenant's CVE watch as a scan or a change of statements checks it."""

    @property
    def watch_id(self) -> str: ...
    @property
    def cve_id(self) -> str: ...


@dataclass(frozen=True)
class Judged:
    """A version's findings (as one scan found them) with their verdicts for one tenant, in order."""

    findings: Sequence[FoundVulnerability]
    verdicts: Sequence[Verdict | None]


@dataclass(frozen=True)
class AnalysisInput:
    state: str
    justification: str | None
    detail: str | None
    response: tuple[str, ...]
    expires_at: datetime | None


class VexService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow, cache: ReadCache | None = None) -> None:
        self.session = session
        self.clock = clock
        # the process's read cache (`Runtime.read_cache`): a scan's verdicts are kept there when given
        self.cache = cache
        self.repository = VexRepository(session)
        self.catalog = CatalogService(session, clock)

    async def statements(
        self,
        page: PageParams,
        *,
        vulnerability: str | None = None,
        image: str | None = None,
        include_revoked: bool = False,
    ) -> Slice[VexStatement]:
        """The vendor's statements, newest first: every one, or those of a vulnerability, or those naming
        an image."""
        return await self.repository.page(
            page,
            vulnerability=vulnerability,
            image_names=image_names(image) if image is not None else None,
            include_revoked=include_revoked,
        )

    async def scan_verdicts(
        self,
        tenant_id: str | None,
        image: Image,
        version: ImageVersion,
        digest: str,
        subjects: Callable[[], Subjects],
    ) -> list[Verdict | None]:
        """`verdicts` of the findings of a scan (`digest`: its findings document's, `subjects`: makes
        them), kept in the read cache until a statement or analysis changes, or one they count expires:
        every page, filter and order of a list, and every export, reads them once. A tenant with no
        analysis of the version in force reads the vendor's verdicts, kept once for every such tenant."""
        own: list[Analysis] = []
        expiry: datetime | None = None
        if tenant_id is not None:
            found, expiry = _in_force(await self.repository.analyses(tenant_id, [version.id]), self.clock())
            own = found.get(version.id, [])

        async def compute() -> list[Verdict | None]:
            lasts_until(expiry)
            return await self._decided(image, version, await self._subjects(digest, subjects), own)

        if self.cache is None:
            return await compute()
        key = ("vex-verdicts", tenant_id if own else None, version.id, digest)
        # a slot per finding; the verdicts themselves are shared by every finding a statement speaks for
        return await self.cache.load(
            key, (VEX,), compute, size=lambda found: 16 * len(found) + 4096, session=self.session
        )

    async def _subjects(self, digest: str, make: Callable[[], Subjects]) -> Subjects:
        """The findings of a set as VEX matches them: a set never changes, so they are kept while the
        read cache has room."""

        async def made() -> Subjects:
            return make()

        if self.cache is None:
            return make()
        return await self.cache.load(("vex-subjects", digest), (), made, lambda s: 160 * len(s.items) + 1024)

    async def verdicts(
        self,
        tenant_id: str | None,
        image: Image,
        version: ImageVersion,
        subjects: Subjects,
    ) -> list[Verdict | None]:
        """Each finding's verdict for the tenant (its analyses, then the vendor's statements); the
        vendor's alone when no tenant is given."""
        analyses = await self.current_analyses(tenant_id, [version.id]) if tenant_id is not None else {}
        return await self._decided(image, version, subjects, analyses.get(version.id, []))

    async def _decided(
        self, image: Image, version: ImageVersion, subjects: Subjects, analyses: Sequence[Analysis]
    ) -> list[Verdict | None]:
        candidates = await self.repository.candidates(image_names(image.name), subjects.component_keys)
        facts = VersionFacts(image_names(image.name), version.digest, await self._holds(version, candidates))
        return decide(subjects.items, candidates, facts, analyses)

    async def may_speak(self, tenant_id: str | None, version_ids: Sequence[str]) -> set[str]:
        """Those of these versions for which some verdict may exist: all of them while any vendor
        statement stands, else those the tenant has an analysis of."""
        if not version_ids or await self.repository.any_statement():
            return set(version_ids)
        if tenant_id is None:
            return set()
        return {v for v, found in (await self.current_analyses(tenant_id, version_ids)).items() if found}

    async def verdicts_by_tenant(
        self,
        tenant_ids: Sequence[str],
        image: Image,
        version: ImageVersion,
        subjects: Subjects,
        *,
        leave_out: Collection[str] = (),
        with_revoked: Collection[str] = (),
    ) -> dict[str, list[Verdict | None]]:
        """tenant id -> each finding's verdict for that tenant: the statements read once, the analyses of
        every tenant in one query (a scan's events). `leave_out` and `with_revoked` name statements to
        read as if they were not made, or not revoked: what the verdicts were before a change."""
        candidates = (
            await self.repository.candidates(
                image_names(image.name), subjects.component_keys, with_revoked=list(with_revoked)
            )
            if with_revoked or await self.repository.any_statement()
            else []
        )
        if leave_out:
            candidates = [c for c in candidates if c.statement_id not in leave_out]
        facts = VersionFacts(image_names(image.name), version.digest, await self._holds(version, candidates))
        vendor = decide(subjects.items, candidates, facts)
        analyses = await self.repository.analyses_of_every_tenant(version.id)
        found: dict[str, list[Verdict | None]] = {}
        for tenant_id in tenant_ids:
            own = _in_force(analyses.get(tenant_id, []), self.clock())[0].get(version.id, [])
            found[tenant_id] = decide(subjects.items, candidates, facts, own) if own else vendor
        return found

    def record_watch_changes(
        self,
        tenant_id: str,
        watches: Iterable[Watched],
        image: Image,
        version: ImageVersion,
        *,
        now: Judged,
        was: Judged,
    ) -> None:
        """`cve.watch.matched` or `resolved` for each of the tenant's watched CVEs that now affects the
        version and did not, or the other way round (`portal.scanning.affects`): what a scan and a change
        of the vendor's statements both tell, decided here alone."""
        for watch in watches:
            hits_now = affecting(now.findings, watch.cve_id, now.verdicts)
            hits_before = affecting(was.findings, watch.cve_id, was.verdicts)
            if bool(hits_now) == bool(hits_before):
                continue
            change = CveWatchMatched if hits_now else CveWatchResolved
            payload = change(
                watch_id=watch.watch_id,
                cve_id=watch.cve_id,
                image_id=image.id,
                image_name=image.name,
                version_id=version.id,
                packages=[WatchedPackage.model_validate(p) for p in watch_packages(hits_now or hits_before)],
            )
            record_event(self.session, tenant_id, payload, self.clock)

    async def _holds(
        self, version: ImageVersion, candidates: list[Candidate]
    ) -> Callable[[str, str | None], bool]:
        if not any(c.container_key is not None for c in candidates):
            return lambda key, wanted: False
        inventory = await self.catalog.inventory(version.id)
        held: dict[str, list[str | None]] = {}
        for component in inventory.components if inventory is not None else ():
            key = purl_key(component.purl) if component.purl else None
            if key is not None:
                held.setdefault(key.key, []).append(key.version or component.version)
        return lambda key, wanted: any(same_version(wanted, v) for v in held.get(key, ()))

    # Tenants' analyses.

    async def current_analyses(self, tenant_id: str, version_ids: Sequence[str]) -> dict[str, list[Analysis]]:
        """version id -> the tenant's analyses in force now (not withdrawn, not expired). What is made of
        them is cached no longer than the first of them expires."""
        found, expiry = _in_force(await self.repository.analyses(tenant_id, version_ids), self.clock())
        lasts_until(expiry)
        return found

    async def record_analysis(
        self, actor: Actor, version_id: str, vulnerability_id: str, analysis: AnalysisInput
    ) -> FindingAnalysis:
        """A new entry of the tenant's analysis of a vulnerability (by the id its findings show) in a
        version (the caller checked the tenant sees it): from now on, the analysis."""
        return await self._entry(actor, version_id, vulnerability_id, analysis)

    async def withdraw_analysis(
        self, actor: Actor, version_id: str, vulnerability_id: str
    ) -> FindingAnalysis:
        """Withdraws the analysis in force of a vulnerability (by any of the ids it was filed under)."""
        current = (await self.current_analyses(actor.tenant_id, [version_id])).get(version_id, [])
        entry = next((a for a in current if a.vulnerability_id == vulnerability_id), None)
        if entry is None:
            raise NotFound(f"No analysis of {vulnerability_id} in force for this version.")
        return await self._entry(actor, version_id, entry.vulnerability_id, None)

    async def _entry(
        self, actor: Actor, version_id: str, vulnerability_id: str, analysis: AnalysisInput | None
    ) -> FindingAnalysis:
        entry = FindingAnalysis(
            tenant_id=actor.tenant_id,
            version_id=version_id,
            vulnerability_id=vulnerability_id.upper(),
            state=analysis.state if analysis else None,
            justification=analysis.justification if analysis else None,
            detail=analysis.detail if analysis else None,
            response=list(analysis.response) if analysis else [],
            expires_at=analysis.expires_at if analysis else None,
            recorded_at=self.clock(),
        )
        entry.set_created_by(actor.ref)
        self.repository.add_analysis(entry)
        await self.session.flush()
        changed(self.session, VEX)
        record_audit(
            self.session,
            actor,
            AuditAction.FINDING_ANALYSIS_RECORDED if analysis else AuditAction.FINDING_ANALYSIS_WITHDRAWN,
            AuditTarget("finding_analysis", entry.id, entry.vulnerability_id),
            details={"versionId": version_id, "state": entry.state},
            clock=self.clock,
        )
        return entry

    async def analysis_history(
        self, tenant_id: str, version_id: str, vulnerability_id: str, page: PageParams
    ) -> Slice[FindingAnalysis]:
        """Every entry of the tenant's analysis of a vulnerability in a version (the caller checked the
        tenant sees it), newest first."""
        return await self.repository.analysis_history(tenant_id, version_id, vulnerability_id.upper(), page)


def _in_force(
    entries: Sequence[FindingAnalysis], now: datetime
) -> tuple[dict[str, list[Analysis]], datetime | None]:
    """version id -> the analyses in force at `now` among these entries (oldest first): each
    vulnerability's newest entry, unless it withdraws the analysis or has expired; and when the first of
    them expires (None: none does)."""
    latest: dict[tuple[str, str], FindingAnalysis] = {}
    for entry in entries:
        latest[(entry.version_id, entry.vulnerability_id)] = entry
    found: dict[str, list[Analysis]] = {}
    expiry: datetime | None = None
    for (version_id, vulnerability_id), entry in latest.items():
        if entry.state is None or (entry.expires_at is not None and entry.expires_at <= now):
            continue
        if entry.expires_at is not None and (expiry is None or entry.expires_at < expiry):
            expiry = entry.expires_at
        found.setdefault(version_id, []).append(
            Analysis(
                vulnerability_id,
                entry.state,
                entry.justification,
                entry.detail,
                tuple(entry.response),
                entry.recorded_at,
            )
        )
    return found, expiry
