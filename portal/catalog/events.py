"""What the catalog tells tenants' webhooks."""

from typing import ClassVar

from pydantic import Field

from portal.events import EventPayload, EventType, Rfc3339


class ImageVersionPublished(EventPayload):
    """A new version of an image you are entitled to is available."""

    event_type: ClassVar[EventType] = EventType.IMAGE_VERSION_PUBLISHED

    image_id: str
    image_name: str
    version_id: str
    tags: list[str]
    digest: str = Field(description="sha256:<64 hex>")
    hardening_tags: list[str]
    published_at: Rfc3339
