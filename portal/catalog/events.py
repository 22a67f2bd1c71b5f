"""What the catalog tells tenants' webhooks."""

from typing import TYPE_CHECKING, ClassVar, Self

from pydantic import Field

from portal.events import EventPayload, EventType, Rfc3339

if TYPE_CHECKING:
    from portal.catalog.labels import MovedTag
    from portal.catalog.models import Image, ImageVersion


class TagMove(EventPayload):
    """A tag the published version took from an older version: a tag names one version at a time."""

    tag: str
    from_version_id: str
    from_digest: str


class VersionChanges(EventPayload):
    """What changed since the image's previous latest version (`GET /api/docker-images/{id}/diff` tells
    which, and the vulnerabilities fixed and introduced once the new version is scanned)."""

    previous_version_id: str
    packages_added: int
    packages_removed: int
    packages_changed: int = Field(description="Packages at another version (an upgrade or a downgrade).")
    hardening_tags_added: list[str]
    hardening_tags_removed: list[str]


class ImageVersionPublished(EventPayload):
    """A new version of an image you are entitled to is available (or an unpublished one is back);
    `changes` says what changed since the previous one (null for an image's first version)."""

    event_type: ClassVar[EventType] = EventType.IMAGE_VERSION_PUBLISHED

    image_id: str
    image_name: str
    version_id: str
    tags: list[str]
    digest: str = Field(description="sha256:<64 hex>")
    hardening_tags: list[str]
    published_at: Rfc3339
    changes: VersionChanges | None = None
    moved_tags: list[TagMove] = Field(
        default_factory=list,
        description="Tags this version took from older published versions, which no longer carry them.",
    )
    republished: bool = Field(
        default=False,
        description="True when the version had been unpublished and is back: the same digest, SBOM and id.",
    )

    @classmethod
    def of(
        cls,
        image: "Image",
        version: "ImageVersion",
        moved: "list[MovedTag]",
        *,
        republished: bool,
        changes: VersionChanges | None = None,
    ) -> Self:
        return cls(
            image_id=image.id,
            image_name=image.name,
            version_id=version.id,
            tags=list(version.tags),
            digest=version.digest,
            hardening_tags=list(version.hardening_tags),
            published_at=version.published_at,
            # Tenants never saw an unpublished version: a tag it gave up is no news to them.
            moved_tags=[
                TagMove(
                    tag=move.tag, from_version_id=move.from_version.id, from_digest=move.from_version.digest
                )
                for move in moved
                if move.from_version.unpublished_at is None
            ],
            republished=republished,
            changes=changes,
        )
