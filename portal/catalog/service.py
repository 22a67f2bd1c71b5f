"""The catalog's use cases but publishing (`portal.catalog.publishing`): the operator grants images to
tenants; tenants read what they are entitled to; other features ask what a tenant may see and what each
version holds. Services never commit; the request or command boundary does."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.catalog.models import Entitlement, Image, ImageVersion
from portal.catalog.repository import CatalogRepository, SbomFormat, StoredDocument
from portal.errors import NotFound
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import is_uuid
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import CATALOG, changed
from portal.sbom import ComponentRef, Inventory, inventory_components
from portal.tenants.service import TenantService


@dataclass(frozen=True)
class ImageOverview:
    """One image as the operator sees it: every version counted, every grant listed."""

    image: Image
    latest: ImageVersion | None
    published_versions: int
    all_versions: int
    tenants: list[str]


@dataclass(frozen=True)
class ImageDetail:
    image: Image
    latest: ImageVersion
    versions: list[ImageVersion]


@dataclass(frozen=True)
class VersionInventory:
    version: ImageVersion
    inventory: Inventory


class CatalogService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.repository = CatalogRepository(session)
        self.clock = clock

    # Operator: who sees what.

    async def grant(self, actor: Actor, tenant_slug: str, image_name: str) -> tuple[Entitlement, bool]:
        """Idempotent: granting again keeps the first grant and says it was already there."""
        tenant, image = await TenantService(self.session).get(tenant_slug), await self.image_named(image_name)
        existing = await self.repository.entitlement(tenant.id, image.id)
        if existing is not None:
            return existing, False
        entitlement = Entitlement(tenant_id=tenant.id, image_id=image.id, granted_at=self.clock())
        self.repository.add(entitlement)
        changed(self.session, CATALOG)
        await self.session.flush()
        record_audit(
            self.session,
            actor,
            AuditAction.IMAGE_GRANTED,
            AuditTarget("image", image.id, image.name),
            tenant_id=tenant.id,
            clock=self.clock,
        )
        return entitlement, True

    async def revoke(self, actor: Actor, tenant_slug: str, image_name: str) -> None:
        tenant, image = await TenantService(self.session).get(tenant_slug), await self.image_named(image_name)
        existing = await self.repository.entitlement(tenant.id, image.id)
        if existing is None:
            raise NotFound(f"Tenant {tenant_slug} has no grant for image {image_name}.")
        await self.repository.delete(existing)
        await self.session.flush()
        changed(self.session, CATALOG)
        record_audit(
            self.session,
            actor,
            AuditAction.IMAGE_ACCESS_REVOKED,
            AuditTarget("image", image.id, image.name),
            tenant_id=tenant.id,
            clock=self.clock,
        )

    async def overview(self) -> list[ImageOverview]:
        images = await self.repository.all_images()
        latest = await self.repository.versions_by_id(
            [i.latest_version_id for i in images if i.latest_version_id]
        )
        counts = await self.repository.version_counts()
        grants = await self.repository.grants()
        return [
            ImageOverview(
                image=image,
                latest=latest.get(image.latest_version_id or ""),
                published_versions=counts.get(image.id, (0, 0))[0],
                all_versions=counts.get(image.id, (0, 0))[1],
                tenants=grants.get(image.id, []),
            )
            for image in images
        ]

    # Tenants: only entitled images, only published versions; everything else does not exist.

    async def list_images(
        self, tenant_id: str, page: PageParams, *, q: str | None = None, hardening_tag: str | None = None
    ) -> Slice[tuple[Image, ImageVersion]]:
        return await self.repository.visible_images(
            tenant_id, page, name_contains=q, hardening_tag=hardening_tag
        )

    async def hardening_tags(self, tenant_id: str) -> list[str]:
        """The hardening tags `list_images` can filter on for this tenant, sorted."""
        return await self.repository.visible_hardening_tags(tenant_id)

    async def image_detail(self, tenant_id: str, image_id: str) -> ImageDetail:
        found = await self.repository.visible_image(tenant_id, image_id) if is_uuid(image_id) else None
        if found is None:
            raise NotFound("No such image.")
        image, latest = found
        return ImageDetail(
            image=image, latest=latest, versions=await self.repository.published_versions(image.id)
        )

    async def document(
        self, tenant_id: str, image_id: str, version_id: str, kind: SbomFormat, *, with_content: bool = True
    ) -> StoredDocument:
        """A rendered SBOM, or only its name and hash when the caller may hold it already (a 304)."""
        found = None
        if is_uuid(image_id) and is_uuid(version_id):
            found = await self.repository.visible_document(
                tenant_id, image_id, version_id, kind, with_content=with_content
            )
        if found is None:
            raise NotFound("No such image version.")
        return found

    # For other features: what a tenant may see, and every published version's inventory.

    async def visible_image(self, tenant_id: str, image_id: str) -> Image | None:
        """The image if `tenant_id` is entitled to it and it has a published version; else None."""
        if not is_uuid(image_id):
            return None
        found = await self.repository.visible_image(tenant_id, image_id)
        return found[0] if found else None

    async def visible_version(self, tenant_id: str, image_id: str, version_id: str) -> ImageVersion | None:
        if not (is_uuid(image_id) and is_uuid(version_id)):
            return None
        return await self.repository.visible_version(tenant_id, image_id, version_id)

    async def published_inventories(self) -> AsyncIterator[VersionInventory]:
        """Every published version with its inventory, a few at a time (for scanning)."""
        async for version, stored in self.repository.published_inventories():
            yield VersionInventory(version=version, inventory=Inventory.from_json(stored))

    async def inventory(self, version_id: str) -> Inventory | None:
        stored = await self.repository.inventory(version_id) if is_uuid(version_id) else None
        return Inventory.from_json(stored) if stored is not None else None

    async def inventory_components(self, version_ids: list[str]) -> dict[str, list[ComponentRef]]:
        """version id -> (purl, name, version) of each of its components, for a batch of versions (one
        query, for scanning)."""
        stored = await self.repository.inventories(version_ids)
        return {version_id: inventory_components(data) for version_id, data in stored.items()}

    async def version_by_digest(self, image_name: str, digest: str) -> ImageVersion | None:
        """The image's version of this digest, published or not; None when there is none."""
        image = await self.repository.image_by_name(image_name)
        return await self.repository.version_by_digest(image.id, digest) if image is not None else None

    async def image_by_name(self, name: str) -> Image | None:
        return await self.repository.image_by_name(name)

    async def image_by_id(self, image_id: str) -> Image | None:
        return await self.repository.image_by_id(image_id) if is_uuid(image_id) else None

    async def entitled_tenant_ids(self, image_id: str) -> list[str]:
        return await self.repository.entitled_tenant_ids(image_id)

    async def entitled_tenants_of(self, image_ids: list[str]) -> dict[str, list[str]]:
        """image id -> the tenants entitled to it, for a batch of images (one query)."""
        return await self.repository.entitled_tenants_of(sorted(set(image_ids)))

    async def entitled_versions(self, tenant_id: str) -> list[tuple[ImageVersion, Image]]:
        """Every version, published or not, of the images the tenant is entitled to (newest first)."""
        return await self.repository.entitled_versions(tenant_id)

    async def published_versions_of(self, image_name: str | None = None) -> list[tuple[ImageVersion, Image]]:
        """Every published version (of one image), image by image, oldest version first."""
        if image_name is not None:
            images = [await self.image_named(image_name)]
        else:
            images = await self.repository.all_images()
        found: list[tuple[ImageVersion, Image]] = []
        for image in images:
            versions = await self.repository.published_versions(image.id)
            found.extend((version, image) for version in reversed(versions))
        return found

    async def published_with_images(self, version_ids: list[str]) -> list[tuple[ImageVersion, Image]]:
        return await self.repository.published_with_images(version_ids)

    async def published_version_ids(self) -> list[str]:
        return await self.repository.published_version_ids()

    async def image_named(self, name: str, *, for_update: bool = False) -> Image:
        """The image of this name; NotFound when there is none."""
        image = await self.repository.image_by_name(name, for_update=for_update)
        if image is None:
            raise NotFound(f"No image {name!r}.")
        return image
