"""The catalog's use cases: the operator publishes, grants and unpublishes; tenants read what they are
entitled to. Services never commit; the request or command boundary does."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.audit.service import DetailValue
from portal.auth.actor import Actor
from portal.catalog.diff import diff_inventories
from portal.catalog.events import ImageVersionPublished, VersionChanges
from portal.catalog.labels import (
    MovedTag,
    PublishRequest,
    checked_request,
    checked_tags,
    refuse_known_digest,
    repository_change,
    take_tags,
)
from portal.catalog.models import Entitlement, Image, ImageVersion, VersionHardeningTag, VersionSbom
from portal.catalog.publishing import read_sbom, render_documents
from portal.catalog.repository import CatalogRepository, SbomFormat, StoredDocument
from portal.errors import Conflict, NotFound
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import is_uuid, new_id
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import CATALOG, changed
from portal.sbom import ComponentRef, ImageSubject, Inventory, inventory_components
from portal.scanning.jobs import queue_version_scans
from portal.tenants.service import TenantService


@dataclass(frozen=True)
class Published:
    """A version that tenants see now. `moved_tags`: the tags it took from other versions of the image;
    `previous_repository`: where the image was pulled from before this publish moved it."""

    image: Image
    version: ImageVersion
    created_image: bool
    moved_tags: list[MovedTag] = field(default_factory=list)
    previous_repository: str | None = None
    republished: bool = False


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

    # Operator: publishing and withdrawing versions.

    async def publish(self, actor: Actor, request: PublishRequest) -> Published:
        request = checked_request(request)
        image = await self.repository.image_by_name(request.name, for_update=True)
        others: list[ImageVersion] = []
        previous_repository = None
        if image is not None:
            others = await self.repository.versions_of(image.id)
            refuse_known_digest(image, others, request.digest)
            if image.repository != request.repository:
                if not request.move_repository:
                    raise Conflict(repository_change(image, request.repository, len(others)))
                previous_repository = image.repository
        inventory = await asyncio.to_thread(read_sbom, request.sbom)

        now = self.clock()
        created_image = image is None
        previous = (
            await self.repository.version_by_id(image.latest_version_id)
            if image is not None and image.latest_version_id
            else None
        )
        if image is None:
            image = Image(name=request.name, created_at=now)
        image.repository = request.repository
        if request.description is not None:
            image.description = request.description or None
        image.updated_at = now
        version = ImageVersion(
            id=new_id(),
            digest=request.digest,
            tags=list(request.tags),
            architectures=list(request.architectures),
            hardening_tags=list(request.hardening_tags),
            component_count=len(inventory.components),
            source_format=inventory.source_format,
            published_at=now,
            unpublished_at=None,
        )
        subject = ImageSubject(
            name=request.name,
            repository=request.repository,
            digest=request.digest,
            tags=request.tags,
            architectures=request.architectures,
            published_at=now,
            version_id=version.id,
        )
        rendered = await asyncio.to_thread(render_documents, subject, inventory)

        moved = take_tags(version, others)
        try:
            if created_image:
                self.repository.add(image)
                await self.session.flush()
            version.image_id = image.id
            self.repository.add(version)
            await self.session.flush()
            self.repository.add(
                VersionSbom(
                    version_id=version.id,
                    inventory=rendered.inventory_json,
                    spdx=rendered.spdx,
                    spdx_sha256=rendered.spdx_sha256,
                    cyclonedx=rendered.cyclonedx,
                    cyclonedx_sha256=rendered.cyclonedx_sha256,
                ),
                *(VersionHardeningTag(version_id=version.id, tag=tag) for tag in request.hardening_tags),
            )
            image.latest_version_id = version.id
            await self.session.flush()
        except IntegrityError as error:
            # Another publish of the same name or digest won the race.
            raise Conflict(
                f"Image {request.name} with digest {request.digest} was published meanwhile."
            ) from error

        changes = await self._changes(version, inventory, previous)
        changed(self.session, CATALOG)
        await self._announce(image, version, moved, republished=False, changes=changes)
        # The new version is scanned at once by the worker, not at the next `portal scan`.
        await queue_version_scans(self.session, [version.id], now)
        record_audit(
            self.session,
            actor,
            AuditAction.VERSION_PUBLISHED,
            _version_target(image, version),
            details=_audit_details(version, moved, previous_repository),
            clock=self.clock,
        )
        return Published(
            image=image,
            version=version,
            created_image=created_image,
            moved_tags=moved,
            previous_repository=previous_repository,
        )

    async def republish(
        self, actor: Actor, image_name: str, digest: str, tags: Sequence[str] | None = None
    ) -> Published:
        """Brings an unpublished version back: the same id, digest, SBOM and scans. Its tags are `tags`
        when given, else those it kept; either way they move to it from the image's other versions."""
        image = await self._image(image_name, for_update=True)
        others = await self.repository.versions_of(image.id)
        version = next((v for v in others if v.digest == digest), None)
        if version is None:
            raise NotFound(f"Image {image_name} has no version with digest {digest}.")
        if version.unpublished_at is None:
            raise Conflict(f"Version {digest} of {image_name} is published already (version {version.id}).")
        if tags is not None:
            version.tags = list(checked_tags(tags))
        moved = take_tags(version, others)
        now = self.clock()
        version.unpublished_at = None
        await self.session.flush()
        newest = await self.repository.newest_published_version(image.id)
        image.latest_version_id = newest.id if newest else None
        image.updated_at = now
        await self.session.flush()
        changed(self.session, CATALOG)
        await self._announce(image, version, moved, republished=True)
        await queue_version_scans(self.session, [version.id], now)
        record_audit(
            self.session,
            actor,
            AuditAction.VERSION_REPUBLISHED,
            _version_target(image, version),
            details=_audit_details(version, moved, None),
            clock=self.clock,
        )
        return Published(
            image=image, version=version, created_image=False, moved_tags=moved, republished=True
        )

    async def unpublish(self, actor: Actor, image_name: str, digest: str) -> ImageVersion:
        image = await self._image(image_name)
        version = await self.repository.version_by_digest(image.id, digest)
        if version is None:
            raise NotFound(f"Image {image_name} has no version with digest {digest}.")
        if version.unpublished_at is not None:
            raise Conflict(f"Version {digest} of {image_name} is already unpublished.")
        now = self.clock()
        version.unpublished_at = now
        changed(self.session, CATALOG)
        await self.session.flush()
        newest = await self.repository.newest_published_version(image.id)
        image.latest_version_id = newest.id if newest else None
        image.updated_at = now
        await self.session.flush()
        record_audit(
            self.session,
            actor,
            AuditAction.VERSION_UNPUBLISHED,
            _version_target(image, version),
            clock=self.clock,
        )
        return version

    # Operator: who sees what.

    async def grant(self, actor: Actor, tenant_slug: str, image_name: str) -> tuple[Entitlement, bool]:
        """Idempotent: granting again keeps the first grant and says it was already there."""
        tenant, image = await TenantService(self.session).get(tenant_slug), await self._image(image_name)
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
        tenant, image = await TenantService(self.session).get(tenant_slug), await self._image(image_name)
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

    async def _changes(
        self, version: ImageVersion, inventory: Inventory, previous: ImageVersion | None
    ) -> VersionChanges | None:
        """What changed since the image's previous latest version (its packages and hardening tags: the
        new version is not scanned yet)."""
        changes = None
        if previous is not None:
            before = await self.inventory(previous.id)
            if before is not None:
                diff = diff_inventories(before, inventory, previous.hardening_tags, version.hardening_tags)
                changes = VersionChanges(
                    previous_version_id=previous.id,
                    packages_added=len(diff.added),
                    packages_removed=len(diff.removed),
                    packages_changed=len(diff.changed),
                    hardening_tags_added=diff.hardening_added,
                    hardening_tags_removed=diff.hardening_removed,
                )
        return changes

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
            images = [await self._image(image_name)]
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

    async def _announce(
        self,
        image: Image,
        version: ImageVersion,
        moved: list[MovedTag],
        *,
        republished: bool,
        changes: VersionChanges | None = None,
    ) -> None:
        event = ImageVersionPublished.of(image, version, moved, republished=republished, changes=changes)
        for tenant_id in await self.repository.entitled_tenant_ids(image.id):
            record_event(self.session, tenant_id, event, self.clock)

    async def _image(self, name: str, *, for_update: bool = False) -> Image:
        image = await self.repository.image_by_name(name, for_update=for_update)
        if image is None:
            raise NotFound(f"No image {name!r}.")
        return image


def _version_target(image: Image, version: ImageVersion) -> AuditTarget:
    return AuditTarget("image_version", version.id, f"{image.name}@{version.digest}")


def _audit_details(
    version: ImageVersion, moved: list[MovedTag], previous_repository: str | None
) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {"tags": list(version.tags)}
    if moved:
        details["movedTags"] = [f"{m.tag} from {m.from_version.id}" for m in moved]
    if previous_repository is not None:
        details["previousRepository"] = previous_repository
    return details
