"""What the catalog tells tenants' webhooks."""

from typing import ClassVar

from pydantic import Field

from portal.events import EventPayload, EventType, Rfc3339


class TagMove(EventPayload):
    """A tag the published version took from an older version: a tag names one version at a time."""

    tag: str
    from_version_id: str
    from_digest: str


class ImageVersionPublished(EventPayload):
    """A new version of an image you are entitled to is available (or an unpublished one is back)."""

    event_type: ClassVar[EventType] = EventType.IMAGE_VERSION_PUBLISHED

    image_id: str
    image_name: str
    version_id: str
    tags: list[str]
    digest: str = Field(description="sha256:<64 hex>")
    hardening_tags: list[str]
    published_at: Rfc3339
    moved_tags: list[TagMove] = Field(
        default_factory=list,
        description="Tags this version took from older published versions, which no longer carry them.",
    )
    republished: bool = Field(
        default=False,
        description="True when the version had been unpublished and is back: the same digest, SBOM and id.",
    )
