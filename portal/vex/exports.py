"""A version's VEX for download: the verdicts of its latest scan's findings, rendered (`portal.vex.render`)
with a strong ETag, so a client that holds the current document gets 304.

A rendered document is kept in the read cache (when given) until the catalog, the version's scans or VEX
change, or an analysis it counts expires; the vendor's document (without `includeTenant`) is the same for
every tenant that sees the version, and kept once. Whether the caller sees the version is asked each time.
"""

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog import CatalogService, Image, ImageVersion
from portal.errors import NotFound
from portal.kit.clock import Clock, utcnow
from portal.kit.readcache import CATALOG, SCANS, VEX, ReadCache
from portal.scanning.listing import FindingLists, page_rows
from portal.scanning.service import ScanService
from portal.vex.products import version_purl
from portal.vex.render import VersionVex, render_cyclonedx_vdr, render_cyclonedx_vex, render_openvex
from portal.vex.service import Subjects, VexService

ExportFormat = Literal["openvex", "cyclonedx", "cyclonedx-vdr"]
_RENDER = {
    "openvex": render_openvex,
    "cyclonedx": render_cyclonedx_vex,
    "cyclonedx-vdr": render_cyclonedx_vdr,
}


@dataclass(frozen=True)
class VexDocument:
    content: bytes
    sha256: str
    image_name: str
    label: str


class VexExports:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock = utcnow,
        lists: FindingLists | None = None,
        cache: ReadCache | None = None,
    ) -> None:
        self.session = session
        self.catalog = CatalogService(session, clock)
        self.scans = ScanService(session, clock, lists, cache)
        self.vex = VexService(session, clock, cache)
        self.cache = cache

    async def document(
        self, tenant_id: str, image_id: str, version_id: str, kind: ExportFormat, *, include_tenant: bool
    ) -> VexDocument:
        """The version's VEX as `kind`: the vendor's statements, and the tenant's analyses too when
        `include_tenant` (then they win, as in the findings)."""
        version = await self.catalog.visible_version(tenant_id, image_id, version_id)
        image = await self.catalog.image_by_id(image_id)
        if version is None or image is None:
            raise NotFound("No such image version.")
        speaker = tenant_id if include_tenant else None

        async def render() -> VexDocument:
            return await self._render(speaker, image, version, kind)

        if self.cache is None:
            return await render()
        key = ("vex-document", speaker, version.id, kind)
        return await self.cache.load(
            key,
            (CATALOG, SCANS, VEX),
            render,
            size=lambda document: len(document.content) + 1024,
            session=self.session,
        )

    async def _render(
        self, tenant_id: str | None, image: Image, version: ImageVersion, kind: ExportFormat
    ) -> VexDocument:
        digest, found = await self.scans.latest_finding_list(version.id)
        if digest is None:
            verdicts = []
        else:
            verdicts = await self.vex.scan_verdicts(
                tenant_id, image, version, digest, lambda: Subjects.of_listed(found.items)
            )
        # a VEX names only the findings a verdict speaks for: only those are decoded
        positions = range(len(found)) if kind == "cyclonedx-vdr" else [i for i, v in enumerate(verdicts) if v]
        findings = page_rows(found, positions)
        spoken = [verdicts[i] for i in positions]
        # OpenVEX names components by purl; CycloneDX by bom-ref in the version's SBOM
        inventory = await self.catalog.inventory(version.id) if kind != "openvex" else None
        root = version_purl(image, version)
        bom_refs: dict[str, str] = {}
        for component in inventory.components if inventory is not None else ():
            if component.purl:
                # the SBOM renames a component whose ref is the image's purl (`render_cyclonedx`)
                bom_refs.setdefault(
                    component.purl, component.ref if component.ref != root else f"component:{root}"
                )
        content = _RENDER[kind](
            VersionVex(
                version_id=version.id,
                image_purl=root,
                published_at=version.published_at,
                author="Portal",
                findings=findings,
                verdicts=spoken,
                bom_refs=bom_refs,
            )
        )
        label = version.tags[0] if version.tags else version.digest.removeprefix("sha256:")[:12]
        return VexDocument(content, hashlib.sha256(content).hexdigest(), image.name, label)
