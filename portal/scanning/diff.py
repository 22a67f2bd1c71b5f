"""What changed between two versions of an image: packages (`portal.catalog.diff`), hardening tags, and
the vulnerabilities of their latest scans after VEX (`portal.scanning.affects`): fixed, introduced and
still open, by alias group (a vulnerability filed under another of its ids in the other scan is the same).
"""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog import CatalogService, Image, ImageVersion
from portal.catalog.diff import InventoryDiff, diff_inventories
from portal.errors import NotFound, ValidationFailed
from portal.kit.clock import Clock, utcnow
from portal.sbom import Inventory
from portal.scanning.affects import affects
from portal.scanning.findings import FoundVulnerability
from portal.scanning.service import ScanService
from portal.vex.service import Subjects, VexService


@dataclass(frozen=True)
class OpenVulnerability:
    vulnerability_id: str
    aliases: tuple[str, ...]
    # every id, upper case: what the other version's vulnerabilities are compared by
    ids: frozenset[str]
    severity: str
    packages: list[str]


@dataclass
class VersionDiff:
    image: Image
    before: ImageVersion
    after: ImageVersion
    inventory: InventoryDiff
    # None: that version has no scan yet
    scanned: bool = True
    fixed: list[OpenVulnerability] = field(default_factory=list)
    introduced: list[OpenVulnerability] = field(default_factory=list)
    still_open: list[OpenVulnerability] = field(default_factory=list)


class DiffService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.catalog = CatalogService(session, clock)
        self.scans = ScanService(session, clock)
        self.vex = VexService(session, clock)

    async def for_tenant(
        self, tenant_id: str, image_id: str, before_id: str | None, after_id: str | None
    ) -> VersionDiff:
        """Between two published versions of an image the tenant sees (default: the one before the latest,
        and the latest); the tenant's analyses apply."""
        image = await self.catalog.visible_image(tenant_id, image_id)
        if image is None:
            raise NotFound("No such image.")
        versions = [v for v, _ in await self.catalog.published_versions_of(image.name)]
        return await self._diff(tenant_id, image, versions, before_id, after_id, by="id")

    async def for_operator(self, image_name: str, before: str, after: str) -> VersionDiff:
        """The operator's view (the vendor's statements apply): versions named by tag or digest."""
        image = await self.catalog.image_by_name(image_name)
        if image is None:
            raise NotFound(f"No image {image_name!r}.")
        versions = [v for v, _ in await self.catalog.published_versions_of(image.name)]
        return await self._diff(None, image, versions, before, after, by="name")

    async def _diff(
        self,
        tenant_id: str | None,
        image: Image,
        versions: list[ImageVersion],
        before_ref: str | None,
        after_ref: str | None,
        *,
        by: str,
    ) -> VersionDiff:
        def find(ref: str) -> ImageVersion:
            for version in reversed(versions):  # the newest first: a tag moved to a newer version names it
                if (by == "id" and version.id == ref) or (
                    by == "name" and ref in (version.digest, *version.tags)
                ):
                    return version
            raise NotFound(f"Image {image.name} has no published version {ref}.")

        if before_ref is None and after_ref is None and len(versions) < 2:
            raise NotFound(f"Image {image.name} has only one published version: nothing to compare.")
        after = find(after_ref) if after_ref is not None else versions[-1]
        if before_ref is not None:
            before = find(before_ref)
        else:
            older = [v for v in versions if (v.published_at, v.id) < (after.published_at, after.id)]
            if not older:
                raise ValidationFailed("The version compared has no earlier version: name `from`.")
            before = older[-1]
        empty = Inventory(components=(), dependencies=(), source_format="")
        inventories = {v.id: await self.catalog.inventory(v.id) or empty for v in (before, after)}
        diff = VersionDiff(
            image,
            before,
            after,
            diff_inventories(
                inventories.get(before.id, empty),
                inventories.get(after.id, empty),
                before.hardening_tags,
                after.hardening_tags,
            ),
        )
        latest = await self.scans.latest_scans([before.id, after.id])
        if before.id not in latest or after.id not in latest:
            diff.scanned = False
            return diff
        was = await self._open(tenant_id, image, before)
        now = await self._open(tenant_id, image, after)
        ids_was = {i for v in was for i in v.ids}
        ids_now = {i for v in now for i in v.ids}
        diff.fixed = [v for v in was if not v.ids & ids_now]
        diff.introduced = [v for v in now if not v.ids & ids_was]
        diff.still_open = [v for v in now if v.ids & ids_was]
        return diff

    async def _open(
        self, tenant_id: str | None, image: Image, version: ImageVersion
    ) -> list[OpenVulnerability]:
        """The vulnerabilities of the version's latest scan that affect it (after VEX), by id."""
        findings = await self.scans.latest_findings(version.id)
        verdicts = await self.vex.verdicts(tenant_id, image, version, Subjects.of_findings(findings))
        grouped: dict[str, list[FoundVulnerability]] = {}
        for finding, verdict in zip(findings, verdicts, strict=True):
            if affects(verdict):
                grouped.setdefault(finding.vulnerability_id, []).append(finding)
        return [
            OpenVulnerability(
                vulnerability_id,
                found[0].aliases,
                frozenset(i.upper() for f in found for i in f.ids),
                found[0].severity,
                sorted({f"{f.package_name} {f.package_version or ''}".strip() for f in found}),
            )
            for vulnerability_id, found in sorted(grouped.items())
        ]
