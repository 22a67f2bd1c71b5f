"""The vendor's VEX statements: imported from OpenVEX and CycloneDX documents, added one at a time,
listed and revoked by the operator; and what a change of them tells tenants.

A statement is immutable: a revised document brings new statements, and the latest one stated about a
product and a vulnerability wins (`portal.vex.verdicts`); importing the same document again adds nothing.
Revoking takes a statement back: the one it had overruled speaks again. Each change writes, in the same
transaction, `vex.published` to the tenants whose image versions a new statement now speaks for, and
`cve.watch.matched` / `resolved` where it changes whether a watched CVE affects a version, as a scan would.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packageurl import PackageURL
from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService
from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.catalog import CatalogService, Image, ImageVersion
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import is_uuid, new_id
from portal.kit.imports import ImportCounts
from portal.kit.readcache import VEX, changed
from portal.sbom import ImageSubject
from portal.sbom.image import image_purl
from portal.scanning.affects import affecting, watch_packages
from portal.scanning.service import ScanService
from portal.vex.documents import (
    JUSTIFICATIONS,
    STATUSES,
    StatedProduct,
    StatedVex,
    VexRefused,
    iter_sources,
    read_document,
)
from portal.vex.events import VexPublished, VexStatementSummary
from portal.vex.models import VexStatement
from portal.vex.products import BOM_LINK, product_rows
from portal.vex.repository import VexRepository
from portal.vex.service import Subjects, VexService
from portal.vex.verdicts import EPOCH, Verdict
from portal.watches.events import CveWatchMatched, CveWatchResolved, WatchedPackage
from portal.watches.service import WatchService


@dataclass
class VexImportReport(ImportCounts):
    documents: int = 0
    statement_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"documents": self.documents, **super().as_json()}


@dataclass(frozen=True)
class NewStatement:
    """A statement the operator makes with `portal vex add`."""

    image: str
    vulnerability: str
    status: str
    # a tag or digest of one version; None: every version of the image
    version: str | None = None
    justification: str | None = None
    statement: str | None = None
    action: str | None = None


class VexStatements:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = VexRepository(session)
        self.catalog = CatalogService(session, clock)
        self.verdicts = VexService(session, clock)

    async def import_paths(self, actor: Actor, paths: Sequence[Path]) -> VexImportReport:
        """Every document of these files, folders and zips, or nothing: the first document that fails
        refuses the import (VexRefused, naming it and the JSON path of its first error)."""
        report = VexImportReport()
        stated: list[StatedVex] = []
        for path in paths:
            if not path.exists():
                raise VexRefused(str(path), "no such file or folder")
            for source, data in iter_sources(path):
                stated.extend(read_document(source, data).statements)
                report.documents += 1
        added = await self._store(actor, stated)
        report.imported = len(added)
        report.unchanged = len(stated) - len(added)
        report.statement_ids = added
        await self._announce(added, ())
        record_audit(
            self.session,
            actor,
            AuditAction.VEX_IMPORTED,
            details={
                "sources": [path.name for path in paths][:20],
                "documents": report.documents,
                "imported": report.imported,
                "unchanged": report.unchanged,
            },
            clock=self.clock,
        )
        return report

    async def add(self, actor: Actor, new: NewStatement) -> VexStatement:
        _check(new)
        image = await self.catalog.image_by_name(new.image)
        if image is None:
            raise NotFound(f"No image {new.image!r}.")
        product = await self._image_product(image, new.version)
        now = self.clock()
        stated = StatedVex(
            format="portal",
            origin=f"portal vex add {new_id()}",
            vulnerability=new.vulnerability.strip(),
            aliases=(),
            status=new.status,
            justification=new.justification,
            statement=new.statement,
            action=new.action,
            stated_at=now,
            products=(StatedProduct(product),),
        )
        (added,) = await self._store(actor, [stated])
        await self._announce([added], ())
        statement = await self.repository.statement(added)
        assert statement is not None
        record_audit(
            self.session,
            actor,
            AuditAction.VEX_STATEMENT_ADDED,
            AuditTarget("vex_statement", statement.id, f"{statement.vulnerability} {statement.status}"),
            details={"products": statement.products},
            clock=self.clock,
        )
        return statement

    async def revoke(self, actor: Actor, statement_id: str) -> VexStatement:
        statement = await self.repository.statement(statement_id) if is_uuid(statement_id) else None
        if statement is None:
            raise NotFound(f"No VEX statement {statement_id}.")
        if statement.revoked_at is not None:
            raise Conflict(f"VEX statement {statement_id} was revoked already.")
        await self.repository.revoke(statement.id, self.clock())
        changed(self.session, VEX)
        await self.session.refresh(statement)
        await self._announce((), [statement.id])
        record_audit(
            self.session,
            actor,
            AuditAction.VEX_STATEMENT_REVOKED,
            AuditTarget("vex_statement", statement.id, f"{statement.vulnerability} {statement.status}"),
            clock=self.clock,
        )
        return statement

    async def _image_product(self, image: Image, version: str | None) -> str:
        if version is None:
            purl: str = PackageURL(
                type="oci", name=image.name, qualifiers={"repository_url": image.repository}
            ).to_string()
            return purl
        chosen = next(
            (
                v
                for v, _ in await self.catalog.published_versions_of(image.name)
                if v.digest == version or version in v.tags
            ),
            None,
        )
        if chosen is None:
            raise NotFound(f"Image {image.name} has no published version {version}.")
        return image_purl(_subject(image, chosen))

    async def _store(self, actor: Actor, stated: Sequence[StatedVex]) -> list[str]:
        """The statements not stored yet, stored; their ids."""
        by_fingerprint: dict[str, StatedVex] = {}
        for item in stated:
            by_fingerprint.setdefault(item.fingerprint(), item)
        known = await self.repository.known_fingerprints(list(by_fingerprint))
        fresh = {fp: item for fp, item in by_fingerprint.items() if fp not in known}
        links = await self._bom_links(p.ref for item in fresh.values() for p in item.products)
        now = self.clock()
        actor_ref = actor.ref
        statements: list[dict[str, Any]] = []
        products: list[dict[str, Any]] = []
        for fingerprint, item in fresh.items():
            statement_id = new_id()
            statements.append(
                {
                    "id": statement_id,
                    "fingerprint": fingerprint,
                    "format": item.format,
                    "origin": item.origin[:1000],
                    "vulnerability": item.vulnerability[:200],
                    "vulnerability_ids": " ".join(item.vulnerability_ids),
                    "status": item.status,
                    "justification": item.justification,
                    "statement": item.statement,
                    "action": item.action,
                    "products": [p.ref for p in item.products],
                    "stated_at": item.stated_at or now,
                    "created_at": now,
                    "revoked_at": None,
                    "created_by_type": actor_ref.type,
                    "created_by_id": actor_ref.id,
                    "created_by_name": actor_ref.name,
                    "created_by_email": actor_ref.email,
                }
            )
            said = {
                "vulnerability_ids": statements[-1]["vulnerability_ids"],
                "status": item.status,
                "justification": item.justification,
                "statement": item.statement,
                "action": item.action,
                "stated_us": microseconds(item.stated_at or now),
                "created_us": microseconds(now),
                "revoked": False,
            }
            for product in item.products:
                ref = links.get(product.ref, product.ref)
                subcomponents = tuple(links.get(s, s) for s in product.subcomponents)
                for row in product_rows(ref, subcomponents):
                    products.append(
                        {
                            "id": new_id(),
                            "statement_id": statement_id,
                            "image_name": _cut(row.image_name, 200),
                            "image_digest": _cut(row.image_digest, 71),
                            "container_key": _cut(row.container_key, 1000),
                            "container_version": _cut(row.container_version, 300),
                            "component_key": _cut(row.component_key, 1000),
                            "component_version": _cut(row.component_version, 300),
                            **said,
                        }
                    )
        await self.repository.insert(statements, products)
        if statements:
            changed(self.session, VEX)
        return [row["id"] for row in statements]

    async def _bom_links(self, refs: Iterable[str]) -> dict[str, str]:
        """BOM-Link -> purl, for the links into the CycloneDX SBOM of a version the portal published
        (its serial number is the version's id): the image's purl, or the component's."""
        wanted: dict[str, list[tuple[str, str]]] = {}
        for ref in refs:
            link = BOM_LINK.match(ref)
            if link is not None and is_uuid(link["serial"].lower()):
                wanted.setdefault(link["serial"].lower(), []).append((ref, unquote(link["ref"])))
        if not wanted:
            return {}
        found: dict[str, str] = {}
        for version, image in await self.catalog.published_with_images(sorted(wanted)):
            inventory = await self.catalog.inventory(version.id)
            if inventory is None:
                continue
            root = image_purl(_subject(image, version))
            by_ref = {c.ref: c.purl for c in inventory.components if c.purl}
            for stated, bom_ref in wanted[version.id]:
                purl = (
                    root
                    if bom_ref in (root, unquote(root))
                    else by_ref.get(bom_ref.removeprefix("component:"))
                )
                if purl is not None:
                    found[stated] = purl
        return found

    async def _announce(self, added: Collection[str], revoked: Collection[str]) -> None:
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
                for watch in watches.get(tenant_id, []):
                    if watch.cve_id not in identifiers:
                        continue
                    now = affecting(findings, watch.cve_id, after[tenant_id])
                    was = affecting(findings, watch.cve_id, before[tenant_id])
                    if bool(now) == bool(was):
                        continue
                    change = CveWatchMatched if now else CveWatchResolved
                    payload = change(
                        watch_id=watch.watch_id,
                        cve_id=watch.cve_id,
                        image_id=image.id,
                        image_name=image.name,
                        version_id=version.id,
                        packages=[WatchedPackage.model_validate(p) for p in watch_packages(now or was)],
                    )
                    record_event(self.session, tenant_id, payload, self.clock)

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


def _check(new: NewStatement) -> None:
    """OpenVEX's rules for a statement: a known status and justification; not_affected says why (a
    justification or an impact statement); affected says what to do (an action statement)."""
    if new.status not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}.")
    if new.justification is not None and new.justification not in JUSTIFICATIONS:
        raise ValidationFailed(f"justification must be one of {', '.join(JUSTIFICATIONS)}.")
    if new.status == "not_affected" and not (new.justification or new.statement):
        raise ValidationFailed("a not_affected statement needs a justification or an impact statement.")
    if new.status == "affected" and not new.action:
        raise ValidationFailed("an affected statement needs an action statement (what to do).")
    if new.status != "not_affected" and new.justification is not None:
        raise ValidationFailed("only a not_affected statement has a justification.")
    if not new.vulnerability.strip():
        raise ValidationFailed("the vulnerability must be named.")


def _subject(image: Image, version: ImageVersion) -> ImageSubject:
    return ImageSubject(
        name=image.name,
        repository=image.repository,
        digest=version.digest,
        tags=tuple(version.tags),
        architectures=tuple(version.architectures),
        published_at=version.published_at,
        version_id=version.id,
    )


def microseconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None
