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
    kev: int = Field(default=0, description="Findings of a vulnerability in CISA's KEV catalog at scan time.")
    suppressed: int = Field(
        default=0,
        description="Findings a VEX statement or your analysis takes out (not_affected, fixed, "
        "false_positive): counted here, not in the counts above.",
    )


class ScanCompleted(EventPayload):
    """A version was (re)scanned. `newVulnerabilities` are vulnerabilities (alias groups, named by their
    CVE when they have one) found now that the previous scan of this version did not find;
    `resolvedVulnerabilities` are those the previous scan found and this one does not."""

    event_type: ClassVar[EventType] = EventType.SCAN_COMPLETED

    image_id: str
    image_name: str
    version_id: str
    scan_id: str
    summary: ScanSummary
    new_vulnerabilities: list[str]
    resolved_vulnerabilities: list[str]
