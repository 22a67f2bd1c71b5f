from enum import StrEnum


class EventType(StrEnum):
    IMAGE_VERSION_PUBLISHED = "image.version.published"
    SCAN_COMPLETED = "scan.completed"
    CVE_WATCH_MATCHED = "cve.watch.matched"
    CVE_WATCH_RESOLVED = "cve.watch.resolved"
    VEX_PUBLISHED = "vex.published"
    FEATURE_REQUEST_CREATED = "feature_request.created"
    FEATURE_REQUEST_UPDATED = "feature_request.updated"
    WEBHOOK_TEST = "webhook.test"


EVENT_TYPES: tuple[str, ...] = tuple(event.value for event in EventType)
