"""What a scan tells tenants' webhooks about the CVEs they watch."""

from typing import ClassVar

from portal.events import EventPayload, EventType


class WatchedPackage(EventPayload):
    name: str
    version: str | None
    purl: str | None
    fixed_version: str | None


class CveWatchChange(EventPayload):
    watch_id: str
    cve_id: str
    image_id: str
    image_name: str
    version_id: str
    packages: list[WatchedPackage]


class CveWatchMatched(CveWatchChange):
    """A CVE you watch now affects one of your images (one event per affected image version)."""

    event_type: ClassVar[EventType] = EventType.CVE_WATCH_MATCHED


class CveWatchResolved(CveWatchChange):
    """A CVE you watch no longer affects an image version it affected before; `packages` lists what was
    affected."""

    event_type: ClassVar[EventType] = EventType.CVE_WATCH_RESOLVED
