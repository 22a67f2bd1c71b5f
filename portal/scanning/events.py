"""What a scan tells tenants' webhooks."""

from typing import ClassVar

from pydantic import Field

from portal.events import EventPayload, EventType


class ScanSummary(EventPayload):
    critical: int
    high: int
    medium: int
    low: int
    unknown: int
    total: int
    fixable: int = Field(description="Findings with a fixed version known.")


class ScanCompleted(EventPayload):
    """A version was (re)scanned. `newVulnerabilities` are ids found now that the previous scan of this
    version did not find; `resolvedVulnerabilities` are ids the previous scan found and this one does not."""

    event_type: ClassVar[EventType] = EventType.SCAN_COMPLETED

    image_id: str
    image_name: str
    version_id: str
    scan_id: str
    summary: ScanSummary
    new_vulnerabilities: list[str]
    resolved_vulnerabilities: list[str]
