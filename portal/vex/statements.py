"""The vendor's VEX statements: imported from OpenVEX and CycloneDX documents, added one at a time,
listed and revoked by the operator. Storing them is `portal.vex.storing`'s; what a change of them tells
tenants, `portal.vex.announcing`'s.

A statement is immutable: a revised document brings new statements, and the latest one stated about a
product and a vulnerability wins (`portal.vex.verdicts`); importing the same document again adds nothing.
Revoking takes a statement back: the one it had overruled speaks again. Each change writes, in the same
transaction, `vex.published` to the tenants whose image versions a new statement now speaks for, and
`cve.watch.matched` / `resolved` where it changes whether a watched CVE affects a version, as a scan would.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.catalog import CatalogService, Image
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import is_uuid, new_id
from portal.kit.imports import ImportCounts
from portal.kit.readcache import VEX, changed
from portal.vex.announcing import StatementNews
from portal.vex.documents import (
    JUSTIFICATIONS,
    STATUSES,
    StatedProduct,
    StatedVex,
    VexRefused,
    iter_sources,
    read_document,
)
from portal.vex.models import VexStatement
from portal.vex.products import version_purl
from portal.vex.repository import VexRepository
from portal.vex.storing import StatementStore


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
        self.store = StatementStore(session, clock)
        self.news = StatementNews(session, clock)

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
        added = await self.store.store(actor, stated)
        report.imported = len(added)
        report.unchanged = len(stated) - len(added)
        report.statement_ids = added
        await self.news.announce(added, ())
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
        (added,) = await self.store.store(actor, [stated])
        await self.news.announce([added], ())
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
        await self.news.announce((), [statement.id])
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
        return version_purl(image, chosen)


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
