"""What the catalog tells tenants' webhooks."""

from typing import ClassVar

from pydantic import Field

from portal.events import EventPayload, EventType, Rfc3339


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
    """A new version of an image you are entitled to is available; `changes` says what changed since the
    previous one (null for an image's first version)."""

    event_type: ClassVar[EventType] = EventType.IMAGE_VERSION_PUBLISHED

    image_id: str
    image_name: str
    version_id: str
    tags: list[str]
    digest: str = Field(description="sha256:<64 hex>")
    hardening_tags: list[str]
    published_at: Rfc3339
    changes: VersionChanges | None = None
