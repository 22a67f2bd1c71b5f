"""Publishing: the operator publishes a version of an image from its SBOM, withdraws it, and brings it back.
Tenants entitled to the image hear of each (re)publish through its event; the worker scans the version
at once. Services never commit; the request or command boundary does."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

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
from portal.catalog.models import Image, ImageVersion, VersionHardeningTag, VersionSbom
from portal.catalog.rendering import read_sbom, render_documents
from portal.catalog.repository import CatalogRepository
from portal.catalog.service import CatalogService
from portal.errors import Conflict, NotFound
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import new_id
from portal.kit.readcache import CATALOG, changed
from portal.sbom import ImageSubject, Inventory
from portal.scanning.jobs import queue_version_scans


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


class PublishingService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.repository = CatalogRepository(session)
        self.catalog = CatalogService(session, clock)
        self.clock = clock

    async def publish(self, actor: Actor, request: PublishRequest) -> Published:
        request = checked_request(request)
        image = await self.repository.image_by_name(request.name, for_update=True)
        others: list[ImageVersion] = []
        previous = previous_repository = None
        if image is not None:
            others = await self.repository.versions_of(image.id)
            previous = next((v for v in others if v.id == image.latest_version_id), None)
            refuse_known_digest(image, others, request.digest)
            if image.repository != request.repository:
                if not request.move_repository:
                    raise Conflict(repository_change(image, request.repository, len(others)))
                previous_repository = image.repository
        inventory = await asyncio.to_thread(read_sbom, request.sbom)

        now = self.clock()
        created_image = image is None
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
        await self._made_visible(
            actor, AuditAction.VERSION_PUBLISHED, now, image, version, moved, previous_repository, changes
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
        image = await self.catalog.image_named(image_name, for_update=True)
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
        await self._point_latest(image, now)
        await self._made_visible(actor, AuditAction.VERSION_REPUBLISHED, now, image, version, moved)
        return Published(
            image=image, version=version, created_image=False, moved_tags=moved, republished=True
        )

    async def unpublish(self, actor: Actor, image_name: str, digest: str) -> ImageVersion:
        image = await self.catalog.image_named(image_name)
        version = await self.repository.version_by_digest(image.id, digest)
        if version is None:
            raise NotFound(f"Image {image_name} has no version with digest {digest}.")
        if version.unpublished_at is not None:
            raise Conflict(f"Version {digest} of {image_name} is already unpublished.")
        now = self.clock()
        version.unpublished_at = now
        changed(self.session, CATALOG)
        await self._point_latest(image, now)
        record_audit(
            self.session,
            actor,
            AuditAction.VERSION_UNPUBLISHED,
            _version_target(image, version),
            clock=self.clock,
        )
        return version

    async def _changes(
        self, version: ImageVersion, inventory: Inventory, previous: ImageVersion | None
    ) -> VersionChanges | None:
        """What changed since the image's previous latest version (its packages and hardening tags: the
        new version is not scanned yet)."""
        changes = None
        if previous is not None:
            before = await self.catalog.inventory(previous.id)
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

    async def _point_latest(self, image: Image, now: datetime) -> None:
        """After a version came or went: the image's latest is its newest published version."""
        await self.session.flush()
        newest = await self.repository.newest_published_version(image.id)
        image.latest_version_id = newest.id if newest else None
        image.updated_at = now
        await self.session.flush()

    async def _made_visible(
        self,
        actor: Actor,
        action: AuditAction,
        now: datetime,
        image: Image,
        version: ImageVersion,
        moved: list[MovedTag],
        previous_repository: str | None = None,
        changes: VersionChanges | None = None,
    ) -> None:
        """What follows a version's (re)publishing: readers' caches drop the catalog, the entitled tenants
        hear of it, the worker scans it at once (not at the next `portal scan`), and the audit log says
        who did it."""
        changed(self.session, CATALOG)
        republished = action is AuditAction.VERSION_REPUBLISHED
        event = ImageVersionPublished.of(image, version, moved, republished=republished, changes=changes)
        for tenant_id in await self.repository.entitled_tenant_ids(image.id):
            record_event(self.session, tenant_id, event, self.clock)
        await queue_version_scans(self.session, [version.id], now)
        record_audit(
            self.session,
            actor,
            action,
            _version_target(image, version),
            details=_audit_details(version, moved, previous_repository),
            clock=self.clock,
        )


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
